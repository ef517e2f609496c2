"""2.5D layouts: a body and an object as seen from virtual viewports about the body.

The body frame is built from joints alone (origin at the pelvis, x towards the left hip, z up the
torso), so renders, network outputs and fits on real images share it without any convention about
a model's root rotation. A viewport is a pinhole camera at ``t`` (body frame, metres) looking at the
pelvis with its image x axis level (perpendicular to the torso's up): the layout of a point is its
2D position on that camera's image plane at unit focal length. This carries the same information as
the paper's unit directions plus camera position (eq. 6-7) without their redundant third coordinate.
"""
from __future__ import annotations

import math

import torch

from hoi_perception.body.joints import BODY_JOINTS

PELVIS, LEFT_HIP, RIGHT_HIP, NECK = (BODY_JOINTS.index(n) for n in ("pelvis", "left_hip", "right_hip", "neck"))
LAYOUT_JOINTS = tuple(range(1, len(BODY_JOINTS)))  # the pelvis is the look-at point: always (0, 0)
UP = (0.0, 0.0, 1.0)
MIN_DEPTH = 0.1  # m: a point nearer a viewport than this is clamped (viewports stand >= 2 m away)
# viewports: distance and elevation ranges sampled in training; scoring uses a fixed ring
RADIUS_RANGE = (2.5, 5.0)
ELEVATION_RANGE_DEG = (-15.0, 50.0)
SCORING_RADIUS = 3.5
CAMERA_SCALE = 4.0  # camera positions enter the flow's condition divided by this (metres)


def body_frame(joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., 22, 3) joints -> origin (..., 3) and rotation (..., 3, 3) whose columns are the body
    frame's axes in the joints' frame: x to the left hip, z up the torso, y = z x x (forward)."""
    origin = joints[..., PELVIS, :]
    x = joints[..., LEFT_HIP, :] - joints[..., RIGHT_HIP, :]
    x = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    up = joints[..., NECK, :] - origin
    z = up - (up * x).sum(-1, keepdim=True) * x
    z = z / z.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    y = torch.cross(z, x, dim=-1)
    return origin, torch.stack([x, y, z], -1)


def to_body_frame(points: torch.Tensor, origin: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """(..., N, 3) points -> the same in the body frame of (origin, rotation) from `body_frame`."""
    return (points - origin[..., None, :]) @ rotation


def ring_viewports(n: int, radius: float = SCORING_RADIUS, dtype=torch.float32) -> torch.Tensor:
    """(n, 3) viewports for scoring: evenly around the body, elevations alternating 0 and 30 degrees."""
    az = torch.arange(n, dtype=dtype) * (2 * math.pi / n)
    el = torch.where(torch.arange(n) % 2 == 0, 0.0, math.radians(30.0)).to(dtype)
    return radius * torch.stack([torch.cos(el) * torch.cos(az), torch.cos(el) * torch.sin(az), torch.sin(el)], -1)


def random_viewports(shape: tuple[int, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    """(*shape, 3) viewports drawn over the training ranges (azimuth uniform)."""
    u = torch.rand(*shape, 3, generator=generator)
    az = u[..., 0] * 2 * math.pi
    lo, hi = (math.radians(a) for a in ELEVATION_RANGE_DEG)
    el = lo + u[..., 1] * (hi - lo)
    r = RADIUS_RANGE[0] + u[..., 2] * (RADIUS_RANGE[1] - RADIUS_RANGE[0])
    return r[..., None] * torch.stack([torch.cos(el) * torch.cos(az), torch.cos(el) * torch.sin(az), torch.sin(el)], -1)


def look_at_axes(cameras: torch.Tensor) -> torch.Tensor:
    """(..., 3) viewports -> (..., 3, 3) rows: image x (right), image y (down), optical axis."""
    forward = -cameras / cameras.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    up = torch.tensor(UP, dtype=cameras.dtype).expand_as(forward)
    right = torch.cross(forward, up, dim=-1)
    right = right / right.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    down = torch.cross(forward, right, dim=-1)
    return torch.stack([right, down, forward], -2)


def project(points: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
    """Body-frame points (..., N, 3) seen from viewports (..., 3) -> (..., N, 2) image-plane positions
    at unit focal length (leading dimensions broadcast)."""
    axes = look_at_axes(cameras)
    q = (points - cameras[..., None, :]) @ axes.transpose(-1, -2)
    return q[..., :2] / q[..., 2:3].clamp_min(MIN_DEPTH)
