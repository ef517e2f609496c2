"""The object as the fitting core moves it: one rigid piece of camera-frame surface points, moved
about its centre by six parameters per sample - an image-plane shift at the centre's depth
(ax, ay: the centre moves by z_c (ax, ay, 0)), a turn w (axis-angle) and a size factor e^g - and,
where a seventh is given, a depth factor e^d that slides the centre along its viewing ray.

With six, the depth stays where the start put it: from a silhouette, size and depth cannot both be
had. A clip's solve (`hoi_perception.motion4d`) has 3D evidence (contact pairs, the body) and
moves the depth too. The start is one point set for every sample, or one per sample (a video's
frames start where each frame's estimate put the object).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoi_perception.geometry import axis_angle_to_matrix, axis_angle_to_matrix_np

N_PARAMS = 6
N_PARAMS_DEPTH = 7


@dataclass
class ObjectStart:
    points: np.ndarray  # (N, 3) camera-frame surface points where the fit starts, or (B, N, 3) one set per sample

    @property
    def centre(self) -> np.ndarray:
        """(3,) or (B, 3): the start's centre (mean point)."""
        return np.asarray(self.points, np.float64).mean(-2)


def similarity(centre: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The move as x -> A x + b: (3,) or (B, 3) centre, (B, 6|7) parameters -> A (B, 3, 3), b (B, 3)."""
    c = centre.expand(params.shape[0], 3)
    shift = c[:, 2:3] * torch.cat([params[:, :2], params.new_zeros(params.shape[0], 1)], 1)
    moved = c + shift
    if params.shape[1] > N_PARAMS:  # along the viewing ray through the shifted centre
        moved = moved * torch.exp(params[:, 6:7])
    a = torch.exp(params[:, 5])[:, None, None] * axis_angle_to_matrix(params[:, 2:5])
    return a, moved - (a @ c[..., None])[..., 0]


def move_object(points: torch.Tensor, centre: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """(N, 3) or (B, N, 3) points, (3,) or (B, 3) centre, (B, 6|7) parameters -> (B, N, 3) moved points."""
    a, b = similarity(centre, params)
    return points @ a.transpose(1, 2) + b[:, None]


def moved_centre_np(centre: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Where `similarity` puts the centre, for one sample in numpy: (3,), (6|7,) -> (3,)."""
    moved = centre + centre[2] * np.array([params[0], params[1], 0.0])
    return moved * np.exp(params[6]) if len(params) > N_PARAMS else moved


def move_object_np(points: np.ndarray, centre: np.ndarray, params: np.ndarray) -> np.ndarray:
    """`move_object` for one sample of six or seven parameters in numpy: (N, 3), (3,), (6|7,) -> (N, 3)."""
    rot = axis_angle_to_matrix_np(params[2:5])
    return np.exp(params[5]) * (points - centre) @ rot.T + moved_centre_np(centre, params)


def object_transform(centre, params) -> np.ndarray:
    """(B, 4, 4) similarity x -> a (x - c) + c' that the parameters apply to the start's points."""
    params = torch.as_tensor(params, dtype=torch.float64)
    params = params.reshape(-1, params.shape[-1])
    a, b = similarity(torch.as_tensor(centre, dtype=torch.float64), params)
    out = torch.eye(4, dtype=torch.float64).repeat(len(params), 1, 1)
    out[:, :3, :3] = a
    out[:, :3, 3] = b
    return out.numpy()
