"""A body-pose prior learned from real motion capture: a Gaussian mixture over limb directions.

The feature is skeleton-agnostic, so mocap from any rig and the anny body score alike: the unit
directions of 12 segments (thighs, shins, feet, upper arms, forearms, trunk, head) written in a
frame fixed to the hips and trunk (x forward, y left, z up; REP 103). Rotations are not used: each
rig has its own rest pose, and twist is not seen by keypoints anyway. The mixture is fitted by
`fitting/training/pose_prior.py` and shipped as `fitting/data/pose_prior.safetensors` (card beside it).
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from hoi_perception.body.joints import BODY_JOINTS

_I = {n: i for i, n in enumerate(BODY_JOINTS)}
SEGMENTS: tuple[tuple[str, str], ...] = (
    ("left_hip", "left_knee"), ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"), ("right_knee", "right_ankle"),
    ("left_ankle", "left_foot"), ("right_ankle", "right_foot"),
    ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
    ("pelvis", "neck"), ("neck", "head"),
)
FEATURE_SIZE = 3 * len(SEGMENTS)
# left <-> right: the segment order above pairs each left segment with the right one after it
MIRROR_SEGMENTS = (1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 10, 11)


def body_frame(joints: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) columns x forward, y left, z up of the hips-and-trunk frame of (..., 22, 3) joints."""
    y = joints[..., _I["left_hip"], :] - joints[..., _I["right_hip"], :]
    shoulders = 0.5 * (joints[..., _I["left_shoulder"], :] + joints[..., _I["right_shoulder"], :])
    hips = 0.5 * (joints[..., _I["left_hip"], :] + joints[..., _I["right_hip"], :])
    y = torch.nn.functional.normalize(y, dim=-1)
    up = shoulders - hips
    z = torch.nn.functional.normalize(up - (up * y).sum(-1, keepdim=True) * y, dim=-1)
    x = torch.linalg.cross(y, z, dim=-1)
    return torch.stack([x, y, z], dim=-1)


def direction_features(joints: torch.Tensor) -> torch.Tensor:
    """(..., 36) segment directions in the body frame of (..., 22, 3) canonical joints."""
    a = torch.tensor([_I[s] for s, _ in SEGMENTS], device=joints.device)
    b = torch.tensor([_I[e] for _, e in SEGMENTS], device=joints.device)
    d = torch.nn.functional.normalize(joints[..., b, :] - joints[..., a, :], dim=-1)
    local = d @ body_frame(joints)  # row vectors: d^T F = (F^T d)^T
    return local.reshape(*joints.shape[:-2], FEATURE_SIZE)


def mirror_features(f: torch.Tensor) -> torch.Tensor:
    """The features of the mirrored pose (left and right swapped, y negated)."""
    d = f.reshape(*f.shape[:-1], len(SEGMENTS), 3)[..., MIRROR_SEGMENTS, :]
    return (d * d.new_tensor([1.0, -1.0, 1.0])).reshape(f.shape)


class PosePrior(torch.nn.Module):
    """Negative log-likelihood of body poses under the mixture (per sample, nats / feature size)."""

    def __init__(self, means: torch.Tensor, precision_chol: torch.Tensor, log_weights: torch.Tensor) -> None:
        super().__init__()
        k, d = means.shape
        if d != FEATURE_SIZE or precision_chol.shape != (k, d, d) or log_weights.shape != (k,):
            raise ValueError(f"pose prior of the wrong shape: means {tuple(means.shape)}, "
                             f"precision {tuple(precision_chol.shape)}, weights {tuple(log_weights.shape)}")
        self.register_buffer("means", means.float())
        self.register_buffer("precision_chol", precision_chol.float())  # P = L L^T, L lower
        log_det = torch.log(torch.diagonal(precision_chol.float(), dim1=-2, dim2=-1)).sum(-1)
        self.register_buffer("log_norm", log_weights.float() + log_det - 0.5 * d * math.log(2 * math.pi))

    @classmethod
    def load(cls, path: str | Path) -> PosePrior:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            t = load_file(str(path))
            return cls(t["means"], t["precision_chol"], t["log_weights"])
        except (SafetensorError, OSError, KeyError, ValueError) as exc:
            raise FileNotFoundError(f"pose prior {path} is missing or unreadable: {exc}") from exc

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        """(B,) mean negative log-likelihood per feature dimension of (B, 22, 3) joints."""
        return self.feature_nll(direction_features(joints))

    def feature_nll(self, f: torch.Tensor) -> torch.Tensor:
        """(B,) the same for (B, 36) precomputed direction features."""
        diff = f.to(self.means)[:, None, :] - self.means[None]  # (B, K, D)
        z = torch.einsum("bkd,kde->bke", diff, self.precision_chol)
        log_p = self.log_norm[None] - 0.5 * (z * z).sum(-1)
        return -torch.logsumexp(log_p, dim=1) / FEATURE_SIZE


# shipped inside the package, like the vertex subsets: a fitting term, not a model users choose
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "pose_prior.safetensors"


def default_pose_prior() -> PosePrior:
    return PosePrior.load(DEFAULT_PATH)
