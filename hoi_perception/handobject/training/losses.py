"""Losses. Deterministic variant: direct prediction with BCE + soft Dice on the occupancy and the
masks; flow variant: velocity MSE on the occupancy and amodal masks. Both: Frobenius loss on
rotations, L1 on centres and hand joints."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from hoi_perception.geometry import rot6d_to_matrix

WEIGHTS = {"occ_bce": 1.0, "occ_dice": 1.0, "mask_bce": 1.0, "mask_dice": 0.5, "rot": 1.0, "centre": 2.0,
           "hand_uv": 2.0, "hand_z": 1.0, "occ_flow": 1.0, "mask_flow": 0.5}


def soft_dice(logits: torch.Tensor, target: torch.Tensor, dims) -> torch.Tensor:
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dims)
    return 1 - (2 * inter + 1) / (p.sum(dims) + target.sum(dims) + 1)


def losses(out: dict, batch: dict) -> dict[str, torch.Tensor]:
    """The deterministic variant: occupancy and all three mask channels as logits."""
    occ, occ_t = out["occupancy"], batch["occupancy"]
    res = {"occ_bce": F.binary_cross_entropy_with_logits(occ, occ_t),
           "occ_dice": soft_dice(occ, occ_t, (1, 2, 3)).mean()}
    res.update(_mask_terms(out["masks"], batch["masks"], batch["valid"]))
    res.update(_pose_hand_terms(out, batch))
    res["total"] = sum(WEIGHTS[k] * v for k, v in res.items())
    return res


def flow_losses(out: dict, batch: dict, v_occ: torch.Tensor, v_mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """The flow variant: velocity MSE on the occupancy and the amodal-mask channel (the two
    generated quantities, one shared t); visible-object and hand masks, pose and hand as in the
    deterministic variant."""
    valid = batch["valid"]
    nv = valid.sum().clamp(min=1)
    res = {"occ_flow": F.mse_loss(out["occupancy"], v_occ),
           "mask_flow": (((out["masks"][:, :, 0] - v_mask) ** 2).mean((2, 3)) * valid).sum() / nv}
    res.update(_mask_terms(out["masks"][:, :, 1:], batch["masks"][:, :, 1:], valid))
    res.update(_pose_hand_terms(out, batch))
    res["total"] = sum(WEIGHTS[k] * v for k, v in res.items())
    return res


def _mask_terms(m: torch.Tensor, m_t: torch.Tensor, valid: torch.Tensor) -> dict[str, torch.Tensor]:
    nv = valid.sum().clamp(min=1)
    bce = F.binary_cross_entropy_with_logits(m, m_t, reduction="none").mean((2, 3, 4))
    return {"mask_bce": (bce * valid).sum() / nv,
            "mask_dice": (soft_dice(m, m_t, (3, 4)).mean(-1) * valid).sum() / nv}


def _pose_hand_terms(out: dict, batch: dict) -> dict[str, torch.Tensor]:
    valid = batch["valid"]
    nv = valid.sum().clamp(min=1)
    res = {}
    r_p = rot6d_to_matrix(out["pose"][..., :6])
    r_t = rot6d_to_matrix(batch["pose"][..., :6])
    res["rot"] = (((r_p - r_t) ** 2).sum((-1, -2)) * valid).sum() / nv
    res["centre"] = ((out["pose"][..., 6:] - batch["pose"][..., 6:]).abs().sum(-1) * valid).sum() / nv
    res["hand_uv"] = ((out["hand_uv"] - batch["hand_uv"]).abs().mean((-1, -2)) * valid).sum() / nv
    res["hand_z"] = ((out["hand_z"] - batch["hand_z"]).abs().mean(-1) * valid).sum() / nv
    return res


@torch.no_grad()
def batch_metrics(out: dict, batch: dict) -> dict[str, float]:
    """Cheap monitoring figures: occupancy IoU, amodal mask IoU, rotation error (deg)."""
    occ_p = (out["occupancy"] > 0).float()
    occ_t = batch["occupancy"] > 0.5
    iou = ((occ_p * occ_t).sum((1, 2, 3)) / ((occ_p + occ_t) > 0).float().sum((1, 2, 3)).clamp(min=1)).mean()
    valid = batch["valid"] > 0.5
    mp = out["masks"][:, :, 0] > 0
    mt = batch["masks"][:, :, 0] > 0.5
    miou = ((mp & mt).sum((2, 3)).float() / (mp | mt).sum((2, 3)).float().clamp(min=1))[valid].mean()
    r_p = rot6d_to_matrix(out["pose"][..., :6])
    r_t = rot6d_to_matrix(batch["pose"][..., :6])
    cos = ((torch.einsum("bfij,bfij->bf", r_p, r_t) - 1) / 2).clamp(-1, 1)
    ang = torch.rad2deg(torch.arccos(cos))[valid].mean()
    return {"occ_iou": float(iou), "amodal_iou": float(miou), "rot_deg": float(ang)}
