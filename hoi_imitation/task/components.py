"""Task components (ProtoMotions-style): observations, rewards and terminations are small
objects the task composes; each reads the simulator state and the reference at a frame and
knows nothing about which simulator produced the state."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..retarget import RefMotion
from ..rotations import heading_inverse, mat_to_6d, quat_angle, quat_conj, quat_mul, quat_to_mat
from ..sim.base import SimState
from ..skeleton import END_EFFECTORS


def _heading(s: SimState) -> tuple[np.ndarray, np.ndarray]:
    """(quaternion, matrix) of the inverse heading of the root: computed once per state, since
    every observation component asks for it."""
    if s.heading_inverse is None:
        s.heading_inverse = heading_inverse(s.root_quat)
    return s.heading_inverse


# --------------------------------------------------------------------------- observations
class Observation:
    name = "obs"

    def size(self, ref: RefMotion) -> int:
        return len(self(SimStateFromRef(ref, 0), ref, 0))

    def __call__(self, s: SimState, ref: RefMotion, t: int) -> np.ndarray:
        raise NotImplementedError


class ProprioObs(Observation):
    """Body state in the heading frame: root height, orientation, velocities, joint angles and
    speeds, body positions relative to the root."""

    name = "proprio"

    def __call__(self, s, ref, t):
        hinv, m = _heading(s)
        rel = (s.body_pos - s.root_pos) @ m.T
        return np.concatenate([
            [s.root_pos[2]], mat_to_6d(quat_to_mat(quat_mul(hinv, s.root_quat))),
            m @ s.root_linvel, 0.2 * (m @ s.root_angvel),
            np.sin(s.dof_pos), np.cos(s.dof_pos), 0.1 * s.dof_vel, rel.ravel(),
        ])


class TargetObs(Observation):
    """The next reference frame relative to the current body (PHC-style differences)."""

    name = "target"

    def __init__(self, horizon: int = 1):
        self.horizon = horizon

    def __call__(self, s, ref, t):
        k = min(t + self.horizon, ref.num_frames - 1)
        hinv, m = _heading(s)
        dpos = (ref.body_pos[k] - s.body_pos) @ m.T
        droot = m @ (ref.root_pos[k] - s.root_pos)
        drot = quat_mul(hinv, quat_mul(ref.root_quat[k], quat_conj(s.root_quat)))
        ddof = ref.dof_pos[k] - s.dof_pos
        return np.concatenate([dpos.ravel(), droot, mat_to_6d(quat_to_mat(drot)), np.sin(ddof), np.cos(ddof) - 1.0,
                               [ref.root_pos[k, 2]]])


class PhaseObs(Observation):
    name = "phase"

    def __call__(self, s, ref, t):
        n = ref.cycle_frames if ref.cycle_frames > 0 else ref.num_frames
        ph = 2 * np.pi * (t % n) / n
        return np.array([np.sin(ph), np.cos(ph)])


class ObjectObs(Observation):
    """Object pose and velocity relative to the root, and the reference object's offset."""

    name = "object"

    def __call__(self, s, ref, t):
        k = min(t + 1, ref.num_frames - 1)
        hinv, m = _heading(s)
        rel = m @ (s.object_pos - s.root_pos)
        rot = mat_to_6d(quat_to_mat(quat_mul(hinv, s.object_quat)))
        contact = ref.contacts[k] if ref.contacts is not None else np.zeros(0)
        return np.concatenate([rel, rot, m @ s.object_linvel, 0.1 * (m @ s.object_angvel),
                               m @ (ref.object_pos[k] - s.object_pos), contact,
                               s.hand_object_contact.astype(np.float64)])


# --------------------------------------------------------------------------- rewards
@dataclass
class Reward:
    """A tracking term in [0, 1], exp(-scale * error); the task sums weight * term."""

    weight: float
    scale: float
    name: str = "reward"

    def error(self, s: SimState, ref: RefMotion, t: int) -> float:
        raise NotImplementedError

    def __call__(self, s, ref, t) -> float:
        return float(np.exp(-self.scale * self.error(s, ref, t)))


class JointRotationReward(Reward):
    """DeepMimic pose term: squared geodesic angle of every body's global rotation."""

    def error(self, s, ref, t):
        return float(np.sum(quat_angle(s.body_quat[1:], ref.body_quat[t, 1:]) ** 2))


class JointVelocityReward(Reward):
    def error(self, s, ref, t):
        return float(np.sum((s.dof_vel - ref.dof_vel[t]) ** 2))


class EndEffectorReward(Reward):
    def error(self, s, ref, t):
        ee = list(END_EFFECTORS)
        return float(np.sum((s.body_pos[ee] - ref.body_pos[t, ee]) ** 2))


class BodyPositionReward(Reward):
    """PHC global body position term (mean squared distance over all bodies)."""

    def error(self, s, ref, t):
        return float(np.mean(np.sum((s.body_pos - ref.body_pos[t]) ** 2, axis=-1)))


class RootReward(Reward):
    def error(self, s, ref, t):
        return float(np.sum((s.root_pos - ref.root_pos[t]) ** 2) + 0.1 * quat_angle(s.root_quat, ref.root_quat[t]) ** 2
                     + 0.1 * np.sum((s.root_linvel - ref.root_linvel[t]) ** 2))


class ObjectPoseReward(Reward):
    def error(self, s, ref, t):
        return float(np.sum((s.object_pos - ref.object_pos[t]) ** 2) + 0.1 * quat_angle(s.object_quat, ref.object_quat[t]) ** 2)


class ContactReward(Reward):
    """Hands touch the object when the clip says so (and not otherwise)."""

    def error(self, s, ref, t):
        if ref.contacts is None or "hands:object" not in ref.contact_names:
            return 0.0
        want = ref.contacts[t, ref.contact_names.index("hands:object")] > 0.5
        have = bool(s.hand_object_contact.any())
        return float(want != have)


# --------------------------------------------------------------------------- terminations
@dataclass
class Termination:
    name: str = "termination"

    def __call__(self, s: SimState, ref: RefMotion, t: int) -> bool:
        raise NotImplementedError


@dataclass
class DriftTermination(Termination):
    """PHC: stop when the mean body distance to the reference exceeds ``distance`` metres."""

    distance: float = 0.5
    name: str = "drift"

    def __call__(self, s, ref, t):
        return bool(np.linalg.norm(s.body_pos - ref.body_pos[t], axis=-1).mean() > self.distance)


@dataclass
class ObjectDropTermination(Termination):
    distance: float = 0.5
    name: str = "object_drift"

    def __call__(self, s, ref, t):
        return bool(np.linalg.norm(s.object_pos - ref.object_pos[t]) > self.distance)


def SimStateFromRef(ref: RefMotion, t: int) -> SimState:  # noqa: N802 - reads like a type
    """The state a simulator would report if it were exactly at reference frame t."""
    s = SimState(root_pos=ref.root_pos[t], root_quat=ref.root_quat[t], root_linvel=ref.root_linvel[t],
                 root_angvel=ref.root_angvel[t], dof_pos=ref.dof_pos[t], dof_vel=ref.dof_vel[t],
                 body_pos=ref.body_pos[t], body_quat=ref.body_quat[t], body_linvel=ref.body_linvel[t],
                 hand_object_contact=np.zeros(2, bool), foot_ground_contact=np.zeros(2, bool))
    if ref.object_pos is not None:
        s.object_pos, s.object_quat = ref.object_pos[t], ref.object_quat[t]
        s.object_linvel, s.object_angvel = ref.object_linvel[t], ref.object_angvel[t]
        if ref.contacts is not None and "hands:object" in ref.contact_names:
            s.hand_object_contact = np.full(2, ref.contacts[t, ref.contact_names.index("hands:object")] > 0.5)
    return s
