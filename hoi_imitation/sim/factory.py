"""Builds a simulator backend by name; the backends themselves import only `base`."""
from __future__ import annotations

import numpy as np

from ..clip import ObjectSpec
from .base import Simulator


def make_simulator(backend: str, rest_offsets: np.ndarray, obj: ObjectSpec | None, control_dt: float) -> Simulator:
    if backend == "mujoco":
        from .mujoco_backend import MujocoSimulator  # noqa: PLC0415

        return MujocoSimulator(rest_offsets, obj, control_dt)
    if backend == "isaaclab":
        from .isaaclab_backend import IsaacLabSimulator  # noqa: PLC0415

        return IsaacLabSimulator(rest_offsets, obj, control_dt)
    raise ValueError(f"unknown simulator backend {backend!r} (mujoco, isaaclab)")
