"""Pixel-aligned silhouette features for the occupancy decoder (`NetConfig.lift > 0`).

Ours, not ForeHOI's: at this scale the geometry tokens (a 4^3 latent, 8 cm per token) only reach
the frames through attention, with no geometric correspondence, and the decoded shape stays a
generic blob. Here every cell of the decoder's 32^3 stage is projected into each keyframe through
the network's own regressed pose (detached, so it is the pose inference will use), and the
keyframe's amodal/visible/hand mask logits and mask-decoder features are sampled there. The
samples are averaged over the valid keyframes, with the min and max of the amodal logit (a soft
visual hull) and the fraction of keyframes that see the cell, and mixed into the decoder features
by a pointwise MLP whose last layer starts at zero: a network given this module starts out
exactly as the one it was initialised from.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from hoi_perception.geometry import rot6d_to_matrix

from .encoding import GRID_SIDE

LIFT_RES = 32  # the occupancy decoder's stage before the final 3D pixel shuffle
LOGIT_CLAMP = 20.0
EDGE_RAMP = 32.0  # 1 / (one 64-px mask pixel in grid_sample units)
Z_MIN = 1e-3  # metres in front of the camera


def cell_centres(res: int = LIFT_RES, side: float = GRID_SIDE) -> torch.Tensor:
    """(res^3, 3) cell centres of the aligned grid in [x, y, z] order (x slowest), metres."""
    c = -side / 2 + (torch.arange(res, dtype=torch.float32) + 0.5) * (side / res)
    gx, gy, gz = torch.meshgrid(c, c, c, indexing="ij")
    return torch.stack([gx, gy, gz], -1).reshape(-1, 3)


def decode_pose(pose: torch.Tensor, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., 9) pose encoding + (..., 4) intrinsics vector -> R (..., 3, 3), centre (..., 3) in metres
    (torch twin of `pose.decode_poses` in normalised image units)."""
    r = rot6d_to_matrix(pose[..., :6])
    un, vn = (pose[..., 6] + 1) / 2, (pose[..., 7] + 1) / 2
    z = torch.exp(pose[..., 8]) * k[..., 0]
    x = (un - k[..., 2]) * z / k[..., 0]
    y = (vn - k[..., 3]) * z / k[..., 1]
    return r, torch.stack([x, y, z], -1)


def project_cells(cells: torch.Tensor, r: torch.Tensor, centre: torch.Tensor, k: torch.Tensor):
    """Cells (N, 3) of the aligned frame into every frame: grid_sample coordinates (B, F, N, 2) in
    [-1, 1] (align_corners=False) and an in-view weight (B, F, N): 1 inside the image, 0 outside,
    linear across the last mask pixel."""
    p = torch.einsum("bfij,nj->bfni", r, cells) + centre[:, :, None]
    z = p[..., 2].clamp(min=Z_MIN)
    gx = 2 * (k[:, :, None, 0] * p[..., 0] / z + k[:, :, None, 2]) - 1
    gy = 2 * (k[:, :, None, 1] * p[..., 1] / z + k[:, :, None, 3]) - 1
    # a one-pixel ramp instead of a hard test: the output stays continuous, so backends agree
    inside = ((1 - gx.abs()) * EDGE_RAMP).clamp(0, 1) * ((1 - gy.abs()) * EDGE_RAMP).clamp(0, 1)
    inside = inside * ((p[..., 2] - Z_MIN) / Z_MIN).clamp(0, 1)
    return torch.stack([gx, gy], -1), inside


class SilhouetteLift(nn.Module):
    def __init__(self, feat_in: int, channels: int, dec_channels: int, hidden: int = 32):
        super().__init__()
        self.feat = nn.Conv2d(feat_in, channels, 1)
        n_in = dec_channels + channels + 3 + 2 + 1  # decoder, mean features, mean logits, min/max amodal, seen
        self.mix = nn.Sequential(nn.Conv3d(n_in, hidden, 1), nn.GELU(), nn.Conv3d(hidden, dec_channels, 1))
        nn.init.zeros_(self.mix[-1].weight)
        nn.init.zeros_(self.mix[-1].bias)
        self.register_buffer("cells", cell_centres(), persistent=False)

    def forward(self, g, feats, logits, pose, k, valid):
        """g (B, C, 32, 32, 32) decoder features; feats (B*F, Cf, h, w) mask-decoder features; logits
        (B*F, 3, 64, 64) mask logits; pose (B, F, 9); k (B, F, 4); valid (B, F). Returns g updated."""
        b, f = valid.shape
        n = self.cells.shape[0]
        r, centre = decode_pose(pose.detach(), k)
        grid, inside = project_cells(self.cells, r, centre, k)
        grid = grid.reshape(b * f, 1, n, 2)
        sf = F.grid_sample(self.feat(feats), grid, align_corners=False)  # (BF, C, 1, N)
        sl = F.grid_sample(logits.clamp(-LOGIT_CLAMP, LOGIT_CLAMP), grid, align_corners=False)
        samples = torch.cat([sf, sl], 1).reshape(b, f, -1, n)
        w = valid[:, :, None]  # (B, F, 1)
        seen = inside * w
        count = w.sum(1).clamp(min=1)  # (B, 1)
        mean = (samples * seen[:, :, None]).sum(1) / count[:, :, None]
        amodal = sl.reshape(b, f, 3, n)[:, :, 0] * inside  # outside the image: logit 0 (unknown)
        lo = amodal.masked_fill(w < 0.5, LOGIT_CLAMP).amin(1)
        hi = amodal.masked_fill(w < 0.5, -LOGIT_CLAMP).amax(1)
        lifted = torch.cat([mean, lo[:, None], hi[:, None], (seen.sum(1) / count)[:, None]], 1)
        lifted = lifted.reshape(b, -1, LIFT_RES, LIFT_RES, LIFT_RES)
        return g + self.mix(torch.cat([g, lifted], 1))
