"""The object as the fitting core moves it: one rigid piece of camera-frame surface points, moved
about its centre by six parameters per sample - an image-plane shift at the centre's depth
(ax, ay: the centre moves by z_c (ax, ay, 0)), a turn w (axis-angle) and a size factor e^g.

Its depth stays where the start put it: from a silhouette, size and depth cannot both be had.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoi_perception.geometry import axis_angle_to_matrix, axis_angle_to_matrix_np

N_PARAMS = 6


@dataclass
class ObjectStart:
    points: np.ndarray  # (N, 3) camera-frame surface points where the fit starts

    @property
    def centre(self) -> np.ndarray:
        return np.asarray(self.points, np.float64).mean(0)


def _parts(centre: torch.Tensor, params: torch.Tensor):
    shift = centre[2] * torch.cat([params[:, :2], params.new_zeros(params.shape[0], 1)], 1)
    return shift, axis_angle_to_matrix(params[:, 2:5]), torch.exp(params[:, 5])


def move_object(points: torch.Tensor, centre: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """(N, 3) points, (3,) centre, (B, 6) parameters -> (B, N, 3) moved points."""
    shift, rot, scale = _parts(centre, params)
    return scale[:, None, None] * (points - centre) @ rot.transpose(1, 2) + centre + shift[:, None]


def move_object_np(points: np.ndarray, centre: np.ndarray, params: np.ndarray) -> np.ndarray:
    """`move_object` for one sample in numpy: (N, 3), (3,), (6,) -> (N, 3)."""
    rot = axis_angle_to_matrix_np(params[2:5])
    shift = centre[2] * np.array([params[0], params[1], 0.0])
    return np.exp(params[5]) * (points - centre) @ rot.T + centre + shift


def object_transform(centre, params) -> np.ndarray:
    """(B, 4, 4) similarity x -> a (x - c) + c' that the parameters apply to the start's points."""
    params = torch.as_tensor(params, dtype=torch.float64).reshape(-1, N_PARAMS)
    centre = torch.as_tensor(centre, dtype=torch.float64)
    shift, rot, scale = _parts(centre, params)
    a = scale[:, None, None] * rot
    out = torch.eye(4, dtype=torch.float64).repeat(len(params), 1, 1)
    out[:, :3, :3] = a
    out[:, :3, 3] = centre + shift - a @ centre
    return out.numpy()
