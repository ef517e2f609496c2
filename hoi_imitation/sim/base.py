"""The simulator interface. The task (observations, rewards, terminations, reference motion)
only ever talks to this; a backend binds it to one simulator (MuJoCo here, Isaac Lab on a GPU).

Conventions shared by every backend: world z-up, metres; quaternions (x, y, z, w); ``dof`` is
the canonical order: for joints 1..J-1 of BODY_JOINTS, angles (x, y, z) of three nested hinges
(local rotation Rx Ry Rz); body arrays are indexed by canonical joint; velocities are world-frame.
"""
from __future__ import annotations

import math
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
    heading_inverse: tuple | None = None  # filled lazily by the task's observations


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


@dataclass
class RootAssist:
    """Assistance: a PD force/torque pulling the pelvis toward a target root state (residual
    "puppeteer" wrench). Backends evaluate it at every physics substep from their own root state,
    so it acts as a continuous-time PD (measured stable up to gain 3 at 240 Hz; gain 10 diverges);
    ``gain`` scales all four terms."""

    pos: np.ndarray
    quat: np.ndarray  # xyzw
    linvel: np.ndarray
    angvel: np.ndarray
    gain: float
    kp_force: float = 2000.0  # N/m at gain 1 (a ~55 kg body)
    kd_force: float = 200.0
    kp_torque: float = 300.0  # N m/rad
    kd_torque: float = 30.0
    # what was applied: sums of |force| and |torque| over the evaluations, so that the help a policy
    # still needs can be reported (`mean_norms`)
    evaluations: int = 0
    force_norm_sum: float = 0.0
    torque_norm_sum: float = 0.0

    def wrench(self, root_pos: np.ndarray, root_quat: np.ndarray, root_linvel: np.ndarray,
               root_angvel: np.ndarray) -> np.ndarray:
        """World-frame (force, torque) on the pelvis, 6 values. Plain float arithmetic: this runs
        at every physics substep, where numpy's per-call overhead on 3-vectors dominates."""
        g = self.gain
        p, v, qt, w = self.pos, self.linvel, self.quat, self.angvel
        f = [g * (self.kp_force * (p[i] - root_pos[i]) + self.kd_force * (v[i] - root_linvel[i])) for i in range(3)]
        # rotation error: axis-angle of quat * conj(root_quat)
        ax, ay, az, aw = (float(x) for x in qt)
        bx, by, bz, bw = -float(root_quat[0]), -float(root_quat[1]), -float(root_quat[2]), float(root_quat[3])
        ex = aw * bx + ax * bw + ay * bz - az * by
        ey = aw * by - ax * bz + ay * bw + az * bx
        ez = aw * bz + ax * by - ay * bx + az * bw
        ew = aw * bw - ax * bx - ay * by - az * bz
        if ew < 0:
            ex, ey, ez, ew = -ex, -ey, -ez, -ew
        s = math.sqrt(ex * ex + ey * ey + ez * ez)
        k = 2.0 * math.atan2(s, ew) / s if s > 1e-9 else 2.0
        e = (ex * k, ey * k, ez * k)
        tau = [g * (self.kp_torque * e[i] + self.kd_torque * (w[i] - root_angvel[i])) for i in range(3)]
        self.evaluations += 1
        self.force_norm_sum += math.sqrt(f[0] * f[0] + f[1] * f[1] + f[2] * f[2])
        self.torque_norm_sum += math.sqrt(tau[0] * tau[0] + tau[1] * tau[1] + tau[2] * tau[2])
        return np.array(f + tau)

    def mean_norms(self) -> tuple[float, float]:
        """Mean |force| (N) and |torque| (N m) over the evaluations so far."""
        n = max(self.evaluations, 1)
        return self.force_norm_sum / n, self.torque_norm_sum / n


class Simulator(ABC):
    """One humanoid (+ optional object) built from a skeleton's rest offsets."""

    control_dt: float
    num_dof: int
    body_mass: float  # kg, the humanoid without the object

    @abstractmethod
    def __init__(self, rest_offsets: np.ndarray, obj: ObjectSpec | None, control_dt: float):
        ...

    @abstractmethod
    def reset(self, s: ResetState) -> None:
        """Teleport to a state (reference-state initialisation)."""

    @abstractmethod
    def step(self, pd_targets: np.ndarray, assist: RootAssist | None = None) -> None:
        """Advance one control step with PD position targets (D,) and optional assistance (a
        wrench on the pelvis re-evaluated at every physics substep; off unless asked)."""

    @abstractmethod
    def state(self) -> SimState:
        ...

    def close(self) -> None:  # noqa: B027 - optional
        pass
