"""Conditional flow matching for the "flow" variant (ForeHOI, section 3.3, at small scale).

Both generated quantities live in [-1, 1]: x_1 = 2 * occupancy - 1 on the 64^3 grid and
x_1 = 2 * amodal mask - 1 per frame. Training draws one t ~ U(0, 1) per clip, shared by the two
branches, and noise x_0 ~ N(0, I); the network sees x_t = (1 - t) x_0 + t x_1 and predicts the
velocity x_1 - x_0 (rectified flow). Inference integrates dx/dt = v from t = 0 to 1 with Euler
steps from a fixed-seed x_0, so a clip always gives the same mesh.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .encoding import GRID_RES, MASK_SIZE

FLOW_INPUTS = ("t", "noisy_occupancy", "noisy_mask")
LOGIT_SCALE = 4.0  # x_1 in [-1, 1] -> a logit whose sigmoid crosses 0.5 where x_1 crosses 0


def training_inputs(batch: dict, generator: torch.Generator) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Noisy inputs for the network and the velocity targets (occupancy, amodal masks)."""
    occ1 = 2 * batch["occupancy"] - 1
    mask1 = 2 * batch["masks"][:, :, 0] - 1
    b = occ1.shape[0]
    t = torch.rand(b, generator=generator)
    occ0 = torch.randn(occ1.shape, generator=generator)
    mask0 = torch.randn(mask1.shape, generator=generator)
    tv = t.reshape(b, 1, 1, 1)  # both targets are 4-D: (B, 64, 64, 64) and (B, F, 64, 64)
    feeds = {"t": t, "noisy_occupancy": (1 - tv) * occ0 + tv * occ1, "noisy_mask": (1 - tv) * mask0 + tv * mask1}
    return feeds, occ1 - occ0, mask1 - mask0


def estimate_x1(out: dict, feeds: dict) -> dict:
    """The clean estimate x_t + (1 - t) v as logits, in place of the velocities (for monitoring)."""
    b = feeds["t"].shape[0]
    rem = (1 - feeds["t"]).reshape(b, 1, 1, 1)
    occ = feeds["noisy_occupancy"] + rem * out["occupancy"]
    mask = feeds["noisy_mask"] + rem * out["masks"][:, :, 0]
    masks = torch.cat([LOGIT_SCALE * mask[:, :, None], out["masks"][:, :, 1:]], 2)
    return dict(out, occupancy=LOGIT_SCALE * occ, masks=masks)


def sample(run: Callable[[dict], dict], feeds: dict, steps: int = 8, seed: int = 0) -> dict:
    """Euler integration with the network ``run`` (numpy feeds -> numpy outputs, batch 1). Returns
    the last step's outputs with the occupancy and amodal-mask channel replaced by logits of the
    generated x_1."""
    if steps < 1:
        raise ValueError(f"flow sampling needs at least one step, got {steps}")
    frames = feeds["images"].shape[1]
    rng = np.random.default_rng(seed)
    occ = rng.standard_normal((1, GRID_RES, GRID_RES, GRID_RES)).astype(np.float32)
    mask = rng.standard_normal((1, frames, MASK_SIZE, MASK_SIZE)).astype(np.float32)
    out = None
    for k in range(steps):
        t = np.full(1, k / steps, np.float32)
        out = run({**feeds, "t": t, "noisy_occupancy": occ, "noisy_mask": mask})
        occ = occ + np.asarray(out["occupancy"], np.float32) / steps
        mask = mask + np.asarray(out["masks"], np.float32)[:, :, 0] / steps
    out = dict(out)
    out["occupancy"] = LOGIT_SCALE * np.clip(occ, -1, 1)
    masks = np.array(out["masks"], np.float32)
    masks[:, :, 0] = LOGIT_SCALE * np.clip(mask, -1, 1)
    out["masks"] = masks
    return out
