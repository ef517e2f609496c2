"""ForeHOI-style network at small scale (see docs/handobject.md).

Per frame: an image CNN (trained from scratch) and a hand branch (CNN with 2D joint heatmaps and
joint depths, trained on the engine's hand joints) give patch features that are fused patch-wise
by a two-layer MLP, with a ray embedding from the intrinsics. A dual-branch transformer then
alternates, block by block:

* mask branch (per-frame patch tokens): self-attention within the frame, then cross-attention
  to the 3D tokens (geometry -> mask context);
* geometry branch (a LAT^3 latent grid of tokens): self-attention, then cross-attention to every
  frame's mask tokens of the same block, merged with per-frame weights w_n (softmax over the
  valid frames of a learned score): y += sum_n w_n CrossAttn(Q(y), K(x_n), V(x_n)). Memory grows
  linearly with the number of frames (no concatenation of all frames' tokens).

Heads: amodal object mask, visible object mask and hand mask per frame (64x64; with `mask_refine > 0`
corrected from the first image stage at full mask resolution, `mask_refine.py`); occupancy
logits on a 64^3 grid (latent LAT^3 upsampled by transposed 3D convolutions and a 3D pixel
shuffle; with `lift > 0` the 32^3 stage also gets each cell's mask logits and features sampled in
every keyframe through the regressed poses, `lift.py`); per-frame object pose (6D rotation + centre
(u, v, lz)); hand joints (u, v) by soft-argmax over heatmaps and depths (with `hand_refine > 0`
refined by joint queries over detached features, which leaves every object output unchanged,
`hand_refine.py`).

Inputs (fixed slots, padding marked by `valid`): images (B, F, 3, 128, 128) in [0, 1],
intrinsics (B, F, 4) = [fx/W, fy/H, cx/W, cy/H], valid (B, F) with valid[:, 0] = 1.

Two variants (`NetConfig.variant`): "direct" predicts occupancy and mask logits in one pass (BCE +
Dice); "flow" is ForeHOI's conditional flow matching on both branches with one shared time step t:
the noisy occupancy x_t (64^3, in [-1, 1] at t = 1) enters the geometry tokens (one 16^3 patch per
token), the noisy amodal masks x_t (64^2 per frame) enter the mask tokens (one 8^2 patch per token),
a sinusoidal embedding of t is added to both, and the occupancy output and the amodal-mask channel
become velocities (target x_1 - x_0); see `flow.py` for the loss and the sampler.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .encoding import GRID_RES, IMAGE_SIZE, MASK_SIZE
from .hand_refine import HandRefine
from .lift import SilhouetteLift
from .mask_refine import MaskRefine


@dataclass
class NetConfig:
    dim: int = 96
    heads: int = 4
    depth: int = 3
    latent: int = 4  # geometry tokens: latent^3 (upsampled x16 to the 64^3 grid)
    img_channels: tuple = (32, 48, 96)
    hand_channels: tuple = (24, 48, 64)
    variant: str = "direct"  # or "flow" (conditional flow matching, shared t on both branches)
    lift: int = 0  # > 0: pixel-aligned silhouette features (this many channels) in the occupancy decoder (lift.py)
    mask_refine: int = 0  # > 0: hidden width of the 64x64 mask-logit refinement from the first image stage (mask_refine.py)
    hand_refine: int = 0  # > 0: width of the hand-joint refinement on detached features (hand_refine.py)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "NetConfig":
        d = dict(d)
        for k in ("img_channels", "hand_channels"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


def conv(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.GroupNorm(8, cout), nn.GELU())


class ImageEncoder(nn.Module):
    """128x128 -> (features 64x64, skip 32x32, tokens 8x8)."""

    def __init__(self, ch, dim):
        super().__init__()
        c1, c2, c3 = ch
        self.s1 = conv(3, c1, 2)  # 64
        self.s2 = nn.Sequential(conv(c1, c2, 2), conv(c2, c2))  # 32
        self.s3 = nn.Sequential(conv(c2, c3, 2), conv(c3, c3))  # 16
        self.s4 = conv(c3, dim, 2)  # 8

    def forward(self, x):
        f1 = self.s1(x)
        f2 = self.s2(f1)
        return f1, f2, self.s4(self.s3(f2))


class HandBranch(nn.Module):
    """Hand prior: 21 joint heatmaps at 32x32, joint depths, and 8x8 hand feature tokens."""

    def __init__(self, ch):
        super().__init__()
        c1, c2, c3 = ch
        self.body = nn.Sequential(conv(3, c1, 2), conv(c1, c2, 2), conv(c2, c2))  # 32
        self.heat = nn.Conv2d(c2, 21, 1)
        self.down = nn.Sequential(conv(c2, c3, 2), conv(c3, c3, 2))  # 8
        self.depth = nn.Sequential(nn.Linear(c3 + 4, 128), nn.GELU(), nn.Linear(128, 22))
        self.out_channels = c3
        r = (torch.arange(32, dtype=torch.float32) + 0.5) / 32 * 2 - 1
        self.register_buffer("coords", r, persistent=False)

    def forward(self, x, k):
        f = self.body(x)
        heat = self.heat(f)  # (N, 21, 32, 32)
        n = heat.shape[0]
        prob = torch.softmax(heat.reshape(n, 21, -1), -1).reshape(n, 21, 32, 32)
        u = (prob.sum(2) * self.coords).sum(-1)
        v = (prob.sum(3) * self.coords).sum(-1)
        tok = self.down(f)
        z = self.depth(torch.cat([tok.mean((2, 3)), k], -1))
        conf = heat.reshape(n, 21, -1).amax(-1)
        return torch.stack([u, v], -1), z, conf, tok, f


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, ctx):
        b, n, d = x.shape
        m = ctx.shape[1]
        h = self.heads
        q = self.q(x).reshape(b, n, h, d // h).transpose(1, 2)
        k, v = self.kv(ctx).reshape(b, m, 2, h, d // h).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) * (d // h) ** -0.5, -1)
        return self.o((a @ v).transpose(1, 2).reshape(b, n, d))


class MLP(nn.Sequential):
    def __init__(self, dim, mult=4):
        super().__init__(nn.Linear(dim, dim * mult), nn.GELU(), nn.Linear(dim * mult, dim))


class DualBlock(nn.Module):
    """One block of both branches with bi-directional cross-attention."""

    def __init__(self, dim, heads):
        super().__init__()
        self.nx = nn.ModuleList([nn.LayerNorm(dim) for _ in range(4)])
        self.ny = nn.ModuleList([nn.LayerNorm(dim) for _ in range(4)])
        self.self_x, self.self_y = Attention(dim, heads), Attention(dim, heads)
        self.x_from_y, self.y_from_x = Attention(dim, heads), Attention(dim, heads)
        self.mlp_x, self.mlp_y = MLP(dim), MLP(dim)
        self.score = nn.Linear(dim, 1)  # per-frame fusion weight w_n

    def forward(self, x, y, valid):
        # x: (B, F, N, D) mask-branch tokens; y: (B, M, D) geometry tokens; valid: (B, F)
        b, f, n, d = x.shape
        m = y.shape[1]
        xf = x.reshape(b * f, n, d)
        h = self.nx[0](xf)
        xf = xf + self.self_x(h, h)
        h = self.ny[0](y)
        y = y + self.self_y(h, h)
        # geometry <- each frame's mask tokens, weighted sum over frames
        kv = self.nx[1](xf)
        q = self.ny[1](y).unsqueeze(1).expand(b, f, m, d).reshape(b * f, m, d)
        per_frame = self.y_from_x(q, kv).reshape(b, f, m, d)
        logits = self.score(kv.mean(1)).reshape(b, f)
        logits = logits.masked_fill(valid < 0.5, -1e4)
        w = torch.softmax(logits, -1)
        y = y + (per_frame * w[:, :, None, None]).sum(1)
        y = y + self.mlp_y(self.ny[2](y))
        # mask <- geometry
        ctx = self.ny[3](y).unsqueeze(1).expand(b, f, m, d).reshape(b * f, m, d)
        xf = xf + self.x_from_y(self.nx[2](xf), ctx)
        xf = xf + self.mlp_x(self.nx[3](xf))
        return xf.reshape(b, f, n, d), y, w


def pixel_shuffle_3d(x, r):
    b, c, d, h, w = x.shape
    co = c // r ** 3
    x = x.reshape(b, co, r, r, r, d, h, w).permute(0, 1, 5, 2, 6, 3, 7, 4)
    return x.reshape(b, co, d * r, h * r, w * r)


class HandObjectNet(nn.Module):
    def __init__(self, cfg: NetConfig | None = None):
        super().__init__()
        cfg = cfg or NetConfig()
        self.cfg = cfg
        d, lat = cfg.dim, cfg.latent
        self.image = ImageEncoder(cfg.img_channels, d)
        self.hand = HandBranch(cfg.hand_channels)
        self.fuse = nn.Sequential(nn.Linear(d + self.hand.out_channels, d), nn.GELU(), nn.Linear(d, d))
        self.ray = nn.Linear(3, d)
        self.pos2d = nn.Parameter(torch.randn(1, 64, d) * 0.02)
        self.pos3d = nn.Parameter(torch.randn(1, lat ** 3, d) * 0.02)
        self.blocks = nn.ModuleList([DualBlock(d, cfg.heads) for _ in range(cfg.depth)])
        self.norm_x, self.norm_y = nn.LayerNorm(d), nn.LayerNorm(d)
        c2 = cfg.img_channels[1]
        # mask decoder 8 -> 16 -> 32 (+ skip) -> 64
        self.m_up1 = nn.Sequential(nn.ConvTranspose2d(d, 64, 2, 2), nn.GroupNorm(8, 64), nn.GELU())
        self.m_up2 = nn.Sequential(nn.ConvTranspose2d(64, 32, 2, 2), nn.GroupNorm(8, 32), nn.GELU())
        self.m_mix = conv(32 + c2, 32)
        self.m_out = nn.Conv2d(32, 3 * 4, 1)
        # occupancy decoder lat -> 2 lat -> 4 lat -> 8 lat -> 16 lat (pixel shuffle)
        self.g_in = nn.Sequential(nn.Conv3d(d, d, 3, 1, 1), nn.GroupNorm(8, d), nn.GELU(),
                                  nn.ConvTranspose3d(d, d, 2, 2), nn.GroupNorm(8, d), nn.GELU())
        self.g_up1 = nn.Sequential(nn.ConvTranspose3d(d, 48, 2, 2), nn.GroupNorm(8, 48), nn.GELU(),
                                   nn.Conv3d(48, 32, 3, 1, 1), nn.GroupNorm(8, 32), nn.GELU())
        self.g_up2 = nn.Sequential(nn.ConvTranspose3d(32, 24, 2, 2), nn.GroupNorm(8, 24), nn.GELU())
        self.g_out = nn.Conv3d(24, 8, 1)
        if cfg.lift and cfg.variant != "direct":
            raise ValueError("lift needs the direct variant (the flow variant's mask channel is a velocity)")
        self.lift = SilhouetteLift(self.m_out.in_channels, cfg.lift, self.g_out.in_channels) if cfg.lift else None
        self.mask_refine = (MaskRefine(cfg.img_channels[0], self.m_out.in_channels, cfg.mask_refine)
                            if cfg.mask_refine else None)
        self.hand_refine = (HandRefine(cfg.hand_refine, cfg.hand_channels[1], 2 * d + self.hand.out_channels,
                                       Attention, MLP, heads=cfg.heads) if cfg.hand_refine else None)
        # per-frame pose: attention pooling of mask tokens + pooled geometry tokens
        self.pool_q = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pool = Attention(d, cfg.heads)
        self.pose = nn.Sequential(nn.Linear(2 * d + 4, 256), nn.GELU(), nn.Linear(256, 9))
        g = (torch.arange(8, dtype=torch.float32) + 0.5) / 8
        gy, gx = torch.meshgrid(g, g, indexing="ij")
        self.register_buffer("patch_uv", torch.stack([gx, gy], -1).reshape(64, 2), persistent=False)
        if cfg.variant not in ("direct", "flow"):
            raise ValueError(f"variant must be 'direct' or 'flow', got {cfg.variant!r}")
        if cfg.variant == "flow":
            p3 = GRID_RES // lat
            self.noisy_occ_in = nn.Linear(p3 ** 3, d)
            self.noisy_mask_in = nn.Linear((MASK_SIZE // 8) ** 2, d)
            self.t_embed = nn.Sequential(nn.Linear(64, d), nn.GELU(), nn.Linear(d, d))
            self.register_buffer("t_freq", torch.exp(torch.linspace(0, math.log(1000.0), 32)), persistent=False)

    def _flow_tokens(self, t, noisy_occupancy, noisy_mask, b, f):
        """Embeddings of the noisy state and the shared time step, for the two token sets."""
        lat, p3, pm = self.cfg.latent, GRID_RES // self.cfg.latent, MASK_SIZE // 8
        occ = noisy_occupancy.reshape(b, lat, p3, lat, p3, lat, p3).permute(0, 1, 3, 5, 2, 4, 6)
        y_in = self.noisy_occ_in(occ.reshape(b, lat ** 3, p3 ** 3))
        m = noisy_mask.reshape(b * f, 8, pm, 8, pm).permute(0, 1, 3, 2, 4).reshape(b, f, 64, pm * pm)
        x_in = self.noisy_mask_in(m)
        ang = t.reshape(b, 1) * self.t_freq[None]
        te = self.t_embed(torch.cat([ang.sin(), ang.cos()], -1))  # (B, d)
        return x_in + te[:, None, None], y_in + te[:, None]

    def forward(self, images, intrinsics, valid, t=None, noisy_occupancy=None, noisy_mask=None):
        """Flow variant only: t (B,), noisy_occupancy (B, 64, 64, 64), noisy_mask (B, F, 64, 64)."""
        b, f = images.shape[:2]
        d, lat = self.cfg.dim, self.cfg.latent
        im = images.reshape(b * f, 3, IMAGE_SIZE, IMAGE_SIZE)
        k = intrinsics.reshape(b * f, 4)
        fine, skip, tok = self.image(im)
        hand_uv, hand_z, hand_conf, htok, hand_map = self.hand(im, k)
        tok = tok.flatten(2).transpose(1, 2)  # (BF, 64, d)
        htok = htok.flatten(2).transpose(1, 2)
        image_tokens = tok
        # ray direction of each patch centre (pixel-aligned camera geometry)
        rx = (self.patch_uv[None, :, 0] - k[:, None, 2]) / k[:, None, 0]
        ry = (self.patch_uv[None, :, 1] - k[:, None, 3]) / k[:, None, 1]
        ray = torch.stack([rx, ry, torch.ones_like(rx)], -1)
        x = self.fuse(torch.cat([tok, htok], -1)) + self.ray(ray) + self.pos2d
        x = x.reshape(b, f, 64, d)
        y = self.pos3d.expand(b, -1, -1)
        if self.cfg.variant == "flow":
            if t is None or noisy_occupancy is None or noisy_mask is None:
                raise ValueError("the flow variant needs t, noisy_occupancy and noisy_mask")
            x_in, y_in = self._flow_tokens(t, noisy_occupancy, noisy_mask, b, f)
            x, y = x + x_in, y + y_in
        weights = []
        for blk in self.blocks:
            x, y, w = blk(x, y, valid)
            weights.append(w)
        x = self.norm_x(x).reshape(b * f, 64, d)
        y = self.norm_y(y)
        # masks
        m = x.transpose(1, 2).reshape(b * f, d, 8, 8)
        m = self.m_up2(self.m_up1(m))
        mask_feats = self.m_mix(torch.cat([m, skip], 1))
        mask_logits = F.pixel_shuffle(self.m_out(mask_feats), 2)  # (BF, 3, 64, 64)
        if self.mask_refine is not None:
            mask_logits = self.mask_refine(fine, mask_feats, mask_logits)
        masks = mask_logits.reshape(b, f, 3, MASK_SIZE, MASK_SIZE)
        # pose
        pooled = self.pool(self.pool_q.expand(b * f, -1, -1), x)[:, 0]
        gy_ = y.mean(1, keepdim=True).expand(b, f, d).reshape(b * f, d)
        pose = self.pose(torch.cat([pooled, gy_, k], -1)).reshape(b, f, 9)
        # occupancy
        g = y.transpose(1, 2).reshape(b, d, lat, lat, lat)
        g = self.g_up2(self.g_up1(self.g_in(g)))
        if self.lift is not None:
            g = self.lift(g, mask_feats, mask_logits, pose, intrinsics, valid)
        occ = pixel_shuffle_3d(self.g_out(g), 2)[:, 0]  # (B, 64, 64, 64) indexed [x, y, z]
        if self.hand_refine is not None:
            hand_uv, hand_z = self.hand_refine(hand_map, torch.cat([image_tokens, htok, x], -1), hand_uv, hand_z)
        return {
            "occupancy": occ,
            "masks": masks,
            "pose": pose,
            "hand_uv": hand_uv.reshape(b, f, 21, 2),
            "hand_z": hand_z.reshape(b, f, 22),
            "hand_conf": hand_conf.reshape(b, f, 21),
            "frame_weights": torch.stack(weights, 1),  # (B, depth, F)
        }


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
