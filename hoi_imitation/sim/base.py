"""The simulator interface. The task (observations, rewards, terminations, reference motion)
only ever talks to this; a backend binds it to one simulator (MuJoCo here, Isaac Lab on a GPU).

Conventions shared by every backend: world z-up, metres; quaternions (x, y, z, w); ``dof`` is
the canonical order: for joints 1..J-1 of BODY_JOINTS, angles (x, y, z) of three nested hinges
(local rotation Rx Ry Rz); body arrays are indexed by canonical joint; velocities are world-frame.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..clip import ObjectSpec


@dataclass
class SimState:
    root_pos: np.ndarray  # (3,)
    root_quat: np.ndarray  # (4,) xyzw
    root_linvel: np.ndarray  # (3,) world
    root_angvel: np.ndarray  # (3,) world
    dof_pos: np.ndarray  # (D,)
    dof_vel: np.ndarray  # (D,)
    body_pos: np.ndarray  # (J, 3)
    body_quat: np.ndarray  # (J, 4) xyzw
    body_linvel: np.ndarray  # (J, 3) world
    object_pos: np.ndarray | None = None
    object_quat: np.ndarray | None = None
    object_linvel: np.ndarray | None = None
    object_angvel: np.ndarray | None = None
    hand_object_contact: np.ndarray | None = None  # (2,) left, right: touching the object
    foot_ground_contact: np.ndarray | None = None  # (2,) left, right


@dataclass
class ResetState:
    root_pos: np.ndarray
    root_quat: np.ndarray
    root_linvel: np.ndarray
    root_angvel: np.ndarray
    dof_pos: np.ndarray
    dof_vel: np.ndarray
    object_pos: np.ndarray | None = None
    object_quat: np.ndarray | None = None
    object_linvel: np.ndarray | None = None
    object_angvel: np.ndarray | None = None


class Simulator(ABC):
    """One humanoid (+ optional object) built from a skeleton's rest offsets."""

    control_dt: float
    num_dof: int

    @abstractmethod
    def __init__(self, rest_offsets: np.ndarray, obj: ObjectSpec | None, control_dt: float):
        ...

    @abstractmethod
    def reset(self, s: ResetState) -> None:
        """Teleport to a state (reference-state initialisation)."""

    @abstractmethod
    def step(self, pd_targets: np.ndarray, root_wrench: np.ndarray | None = None) -> None:
        """Advance one control step with PD position targets (D,) and an optional external
        force/torque (6,) on the pelvis (assistance; off unless asked)."""

    @abstractmethod
    def state(self) -> SimState:
        ...

    def close(self) -> None:  # noqa: B027 - optional
        pass


def make_simulator(backend: str, rest_offsets: np.ndarray, obj: ObjectSpec | None, control_dt: float) -> Simulator:
    if backend == "mujoco":
        from .mujoco_backend import MujocoSimulator  # noqa: PLC0415

        return MujocoSimulator(rest_offsets, obj, control_dt)
    if backend == "isaaclab":
        from .isaaclab_backend import IsaacLabSimulator  # noqa: PLC0415

        return IsaacLabSimulator(rest_offsets, obj, control_dt)
    raise ValueError(f"unknown simulator backend {backend!r} (mujoco, isaaclab)")
