"""CrossHOI at small scale: single image + human/object masks -> body (anny), object 6DoF, contacts.

Stages (CrossHOI, CVPR 2026; names follow the paper):
1. `Backbone`: a small CNN trained from scratch (no pretrained weights exist here) on
   RGB + human mask + object mask, to a C3-like stage (stride 8) feature map F_A.
2. `CrossViewGenerator`: tokens of F_A plus an MLP embedding of the crop intrinsics K_A, as
   queries of a cross-attention over learnable key/value tokens T_KV -> generated view-B
   features F_B'. Pre-trained on its own (MSE + cosine) against real view-B features.
3. `SpatialFusion`: F_AB = softmax(Q_A K_B^T / sqrt(d)) V_B + F_A (real view as query, residual).
4. `InitialHead`: anny shape (sigmoid), global orientation + 51 local rotations (6D, hands
   included), root translation (crop pixel + depth), object class logits, object rotation (6D),
   translation, log scale; `SubsetBody` turns the body parameters into the 431 subset vertices
   and joints, the object template's 64 subset vertices are posed by the object pose.
5. Vertex features: both feature maps sampled at the projected 431 + 64 vertices, concatenated
   with the vertex coordinates; `BiCrossTransformer` (A<->B cross-attention, residual) ->
   contact logits over the 495 vertices.
6. `ContactRefiner`: contact-masked features fused A<->B, then used as queries over the full
   features of both views; an MLP regresses per-vertex offsets.

`cross_view=False` is the single-view baseline (CONTHO-like): no generator, no fusion, and the
vertex transformers attend within the real view only (same modules and sizes).

Everything is in the camera optical frame of the crop (metres); the crop intrinsics are an input.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hoi_perception.geometry import rot6d_to_matrix

from .subset_body import SubsetBody

N_BODY_V = 431
N_OBJ_V = 64
N_V = N_BODY_V + N_OBJ_V
IDENTITY_6D = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
BODY_DEPTH_SCALE = 1.7  # m: a body spanning the crop is ~1.7 m tall at depth f_crop/S * 1.7
OBJECT_DEPTH_SCALE = 1.7


FUSION_DIRECTIONS = ("both", "a_from_b", "b_from_a")


@dataclass
class ModelConfig:
    crop: int = 128
    width: int = 64          # C of the C3-like feature map
    heads: int = 4           # image-token attention heads
    vheads: int = 1          # vertex-token attention heads (495 x 990 attention maps: CPU cost)
    kv_tokens: int = 64      # learnable key/value tokens of the generator
    vdim: int = 64           # vertex feature width
    hidden: int = 384        # regression MLP width
    n_classes: int = 61
    cross_view: bool = True
    # direction of the bidirectional cross-view transformers (paper's ablation): "both" (A<->B),
    # "a_from_b" (only view A queries view B) or "b_from_a" (only view B queries view A)
    fusion: str = "both"
    # output channels of the first three backbone blocks; None: (width/4, width/2, width), releases 1-6
    backbone_widths: list[int] | None = None

    def __post_init__(self) -> None:
        if self.fusion not in FUSION_DIRECTIONS:
            raise ValueError(f"fusion must be one of {FUSION_DIRECTIONS}, got {self.fusion!r}")
        if self.backbone_widths is not None:
            self.backbone_widths = [int(w) for w in self.backbone_widths]
            if len(self.backbone_widths) != 3 or min(self.backbone_widths) < 1:
                raise ValueError(f"backbone_widths must be three positive channel counts, got {self.backbone_widths}")

    @classmethod
    def tiny(cls, **kw) -> "ModelConfig":
        base = dict(crop=64, width=16, heads=2, vheads=1, kv_tokens=8, vdim=16, hidden=32, n_classes=5)
        base.update(kw)
        return cls(**base)

    def to_dict(self) -> dict:
        return asdict(self)


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    """5-channel crop (RGB, human mask, object mask) -> (B, C, S/8, S/8).
    ``widths``: output channels of the three stride-2 blocks (the last block maps them to C)."""

    def __init__(self, width: int, widths: list[int] | None = None) -> None:
        super().__init__()
        w1, w2, w3 = widths or (width // 4, width // 2, width)
        self.net = nn.Sequential(_block(5, w1, 2), _block(w1, w2, 2), _block(w2, w3, 2), _block(w3, width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Attention(nn.Module):
    """Multi-head attention written with matmul + softmax (fast on CPU, plain ONNX ops)."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.h = heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.o = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        m = y.shape[1]
        h = self.h
        q = (self.q(x) * (1.0 / math.sqrt(d // h))).reshape(b, n, h, d // h).transpose(1, 2)
        k, v = self.kv(y).reshape(b, m, 2, h, d // h).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
        return self.o((a @ v).transpose(1, 2).reshape(b, n, d))


def _pos_embed(h: int, w: int, c: int, device, dtype) -> torch.Tensor:
    """Fixed 2D sine-cosine positional embedding (h*w, c)."""
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=dtype), torch.arange(w, device=device, dtype=dtype),
                            indexing="ij")
    q = c // 4
    freq = torch.exp(-math.log(100.0) * torch.arange(q, device=device, dtype=dtype) / max(q, 1))
    parts = [torch.sin(xs.reshape(-1, 1) * freq), torch.cos(xs.reshape(-1, 1) * freq),
             torch.sin(ys.reshape(-1, 1) * freq), torch.cos(ys.reshape(-1, 1) * freq)]
    pe = torch.cat(parts, dim=1)
    if pe.shape[1] < c:
        pe = F.pad(pe, (0, c - pe.shape[1]))
    return pe


class CrossViewGenerator(nn.Module):
    """F_B' = CrossAttn(F_A^t + pos + MLP(K_A), T_KV) (+ FFN)."""

    def __init__(self, c: int, heads: int, n_tokens: int) -> None:
        super().__init__()
        self.k_embed = nn.Sequential(nn.Linear(4, c), nn.ReLU(), nn.Linear(c, c))
        self.kv = nn.Parameter(torch.randn(1, n_tokens, c) * 0.02)
        self.norm_q = nn.LayerNorm(c)
        self.attn = Attention(c, heads)
        self.ffn = nn.Sequential(nn.LayerNorm(c), nn.Linear(c, 2 * c), nn.ReLU(), nn.Linear(2 * c, c))
        self.out = nn.Linear(c, c)

    def forward(self, fa: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
        b, c, h, w = fa.shape
        tok = fa.flatten(2).transpose(1, 2) + _pos_embed(h, w, c, fa.device, fa.dtype)[None]
        q = self.norm_q(tok + self.k_embed(intrinsics)[:, None, :])
        kv = self.kv.expand(b, -1, -1)
        x = self.attn(q, kv)
        x = x + self.ffn(x)
        return self.out(x).transpose(1, 2).reshape(b, c, h, w)


class SpatialFusion(nn.Module):
    """F_AB = Softmax(Q_A K_B^T / sqrt(d)) V_B + F_A."""

    def __init__(self, c: int, heads: int) -> None:
        super().__init__()
        self.na, self.nb = nn.LayerNorm(c), nn.LayerNorm(c)
        self.attn = Attention(c, heads)

    def forward(self, fa: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
        b, c, h, w = fa.shape
        pe = _pos_embed(h, w, c, fa.device, fa.dtype)[None]
        ta = fa.flatten(2).transpose(1, 2)
        tb = fb.flatten(2).transpose(1, 2)
        kb = self.nb(tb + pe)
        x = self.attn(self.na(ta + pe), kb) + ta
        return x.transpose(1, 2).reshape(b, c, h, w)


class InitialHead(nn.Module):
    """Global regression of body and object parameters from a fused feature map."""

    def __init__(self, c: int, hidden: int, n_classes: int, crop: int) -> None:
        super().__init__()
        s = crop // 16
        self.reduce = nn.Sequential(nn.Conv2d(c, c, 3, 2, 1), nn.ReLU(inplace=True))
        self.mlp = nn.Sequential(nn.Linear(c * s * s, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, hidden),
                                 nn.ReLU(inplace=True))
        # body: shape 6, global orient 6, pose 51*6, root uv 2, log depth 1
        self.body = nn.Linear(hidden, 6 + 6 + 51 * 6 + 3)
        # object: rot 6, uv 2, log depth 1, log scale 1
        self.obj = nn.Linear(hidden, 6 + 3 + 1)
        self.cls = nn.Linear(hidden, n_classes)
        for lin in (self.body, self.obj):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)
        with torch.no_grad():
            # start from identity rotations, mid shape, root at the crop centre at nominal depth
            self.body.bias[6:12] = torch.tensor(IDENTITY_6D)
            self.body.bias[12:12 + 306] = torch.tensor(IDENTITY_6D).repeat(51)
            self.obj.bias[:6] = torch.tensor(IDENTITY_6D)

    def forward(self, f: torch.Tensor) -> dict:
        z = self.mlp(self.reduce(f).flatten(1))
        b = self.body(z)
        o = self.obj(z)
        n = b.shape[0]
        return {
            "shape": torch.sigmoid(b[:, :6]),
            "global_orient": b[:, 6:12],
            "pose": b[:, 12:318].reshape(n, 51, 6),
            "root_uvd": b[:, 318:321],
            "obj_rot": o[:, :6],
            "obj_uvd": o[:, 6:9],
            "obj_logscale": o[:, 9],
            "obj_logits": self.cls(z),
        }


def uvd_to_xyz(uvd: torch.Tensor, intrinsics: torch.Tensor, depth_scale: float) -> torch.Tensor:
    """(B,3) [u, v in crop units around the centre, log depth] + normalised crop intrinsics
    [fx, fy, cx, cy] / S -> camera-frame point. Depth = fx/S * depth_scale * exp(d)."""
    fx, fy, cx, cy = intrinsics.unbind(-1)
    z = fx * depth_scale * torch.exp(uvd[:, 2].clamp(-4.0, 4.0))
    u = 0.5 + uvd[:, 0]
    v = 0.5 + uvd[:, 1]
    return torch.stack([(u - cx) * z / fx, (v - cy) * z / fy, z], dim=-1)


def project(points: torch.Tensor, intrinsics: torch.Tensor) -> torch.Tensor:
    """(B,N,3) camera frame -> (B,N,2) normalised crop coordinates in [0, 1]."""
    fx, fy, cx, cy = (t[:, None] for t in intrinsics.unbind(-1))
    z = points[..., 2].clamp(min=1e-3)
    return torch.stack([fx * points[..., 0] / z + cx, fy * points[..., 1] / z + cy], dim=-1)


def sample_features(fmap: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Bilinear features (B, N, C) at normalised crop coordinates uv in [0, 1] (zeros outside)."""
    grid = (uv * 2.0 - 1.0)[:, :, None, :]
    return F.grid_sample(fmap, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[..., 0].transpose(1, 2)


class CrossBlock(nn.Module):
    """x <- Softmax(Q_x K_y^T / sqrt(d)) V_y + x, then a residual FFN."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.nq, self.nk = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.ffn = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        k = self.nk(y)
        x = x + self.attn(self.nq(x), k)
        return x + self.ffn(x)


class BiCrossTransformer(nn.Module):
    """F_vA' = CA(F_vA -> F_vB) + F_vA, F_vB' = CA(F_vB -> F_vA) + F_vB (both from the inputs).
    With ``direction`` "a_from_b" only view A is updated (F_vB passes through), "b_from_a" the reverse."""

    def __init__(self, d: int, heads: int, direction: str = "both") -> None:
        super().__init__()
        self.direction = direction
        self.a_from_b = CrossBlock(d, heads)
        self.b_from_a = CrossBlock(d, heads)

    def forward(self, fa: torch.Tensor, fb: torch.Tensor | None):
        if fb is None:  # single view: the same block attends within view A
            return self.a_from_b(fa, fa), None
        ha = fa if self.direction == "b_from_a" else self.a_from_b(fa, fb)
        hb = fb if self.direction == "a_from_b" else self.b_from_a(fb, fa)
        return ha, hb


class ContactRefiner(nn.Module):
    """Contact-masked A<->B fusion, then global context from the full features, -> offsets."""

    def __init__(self, d: int, heads: int, direction: str = "both") -> None:
        super().__init__()
        self.bi = BiCrossTransformer(d, heads, direction)
        self.ctx = CrossBlock(d, heads)
        self.offset = nn.Sequential(nn.Linear(d + 3, d), nn.ReLU(), nn.Linear(d, 3))
        nn.init.zeros_(self.offset[2].weight)
        nn.init.zeros_(self.offset[2].bias)

    def forward(self, fa, fb, contact_prob, coords):
        m = contact_prob[..., None]
        ca, cb = self.bi(fa * m, None if fb is None else fb * m)
        fused = ca if cb is None else ca + cb
        full = fa if fb is None else torch.cat([fa, fb], dim=1)
        x = self.ctx(fused, full)
        return self.offset(torch.cat([x, coords], dim=-1)) * 0.1  # metres


class CrossHOI(nn.Module):
    """forward(image (B,5,S,S), intrinsics (B,4) normalised by S, template (B,64,3)) -> dict."""

    def __init__(self, cfg: ModelConfig, body: SubsetBody | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.width
        self.backbone = Backbone(c, cfg.backbone_widths)
        self.generator = CrossViewGenerator(c, cfg.heads, cfg.kv_tokens) if cfg.cross_view else None
        self.fusion = SpatialFusion(c, cfg.heads) if cfg.cross_view else None
        self.head = InitialHead(c, cfg.hidden, cfg.n_classes, cfg.crop)
        self.body = body if body is not None else SubsetBody()
        self.vproj_a = nn.Linear(c + 3, cfg.vdim)
        self.vproj_b = nn.Linear(c + 3, cfg.vdim) if cfg.cross_view else None
        self.vtype = nn.Parameter(torch.zeros(1, N_V, cfg.vdim))  # which vertex (learned identity)
        self.contact_tf = BiCrossTransformer(cfg.vdim, cfg.vheads, cfg.fusion)
        self.contact_mlp = nn.Sequential(nn.Linear(cfg.vdim * (2 if cfg.cross_view else 1), cfg.vdim), nn.ReLU(),
                                         nn.Linear(cfg.vdim, 1))
        self.refiner = ContactRefiner(cfg.vdim, cfg.vheads, cfg.fusion)

    def features(self, image: torch.Tensor) -> torch.Tensor:
        return self.backbone(image)

    def forward(self, image: torch.Tensor, intrinsics: torch.Tensor, template: torch.Tensor) -> dict:
        fa = self.backbone(image)
        fb = self.generator(fa, intrinsics) if self.generator is not None else None
        f = self.fusion(fa, fb) if self.fusion is not None else fa
        p = self.head(f)
        root = uvd_to_xyz(p["root_uvd"], intrinsics, BODY_DEPTH_SCALE)
        verts, joints, hand = self.body(p["shape"], p["global_orient"], p["pose"], root)
        r_obj = rot6d_to_matrix(p["obj_rot"])
        t_obj = uvd_to_xyz(p["obj_uvd"], intrinsics, OBJECT_DEPTH_SCALE)
        scale = torch.exp(p["obj_logscale"].clamp(-3.0, 3.0))
        obj = scale[:, None, None] * template @ r_obj.transpose(1, 2) + t_obj[:, None, :]
        init = torch.cat([verts, obj], dim=1)  # (B, 495, 3)
        uv = project(init, intrinsics)
        centre = root[:, None, :]
        coords = init - centre  # root-relative coordinates, metres
        va = self.vproj_a(torch.cat([sample_features(fa, uv), coords], dim=-1)) + self.vtype
        vb = self.vproj_b(torch.cat([sample_features(fb, uv), coords], dim=-1)) + self.vtype if fb is not None else None
        ha, hb = self.contact_tf(va, vb)
        logits = self.contact_mlp(ha if hb is None else torch.cat([ha, hb], dim=-1))[..., 0]
        prob = torch.sigmoid(logits)
        final = init + self.refiner(va, vb, prob, coords)
        out = {
            "body_vertices": final[:, :N_BODY_V], "object_vertices": final[:, N_BODY_V:],
            "body_vertices_init": verts, "object_vertices_init": obj,
            "joints": joints, "hand_joints": hand,
            "contact_logits": logits, "contact": prob,
            "body_shape": p["shape"], "body_global_orient": p["global_orient"], "body_pose": p["pose"],
            "body_transl": root, "object_rot6d": p["obj_rot"], "object_transl": t_obj, "object_scale": scale,
            "object_logits": p["obj_logits"],
        }
        if fb is not None:
            out["generated_features"] = fb
        out["features_a"] = fa
        return out


# Outputs of the exported graph (ONNX) and of every backend, in this order.
EXPORT_OUTPUTS = ("body_vertices", "object_vertices", "joints", "hand_joints", "contact", "body_shape",
                  "body_global_orient", "body_pose", "body_transl", "object_rot6d", "object_transl", "object_scale",
                  "object_logits")


class ExportWrapper(nn.Module):
    """Named inputs -> dict of EXPORT_OUTPUTS (what the backends run)."""

    def __init__(self, model: CrossHOI) -> None:
        super().__init__()
        self.model = model

    def forward(self, image, intrinsics, template):
        out = self.model(image, intrinsics, template)
        return {k: out[k] for k in EXPORT_OUTPUTS}
