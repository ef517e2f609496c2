"""The imitation task, written once: components + reference motion + action mapping + RSI.
Backends only supply a ``Simulator``."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from ..retarget import RefMotion
from ..sim.base import ResetState, RootAssist, SimState
from . import components as C


@dataclass
class TaskConfig:
    control_fps: float = 30.0
    # Actions are PD-target offsets around the reference pose ("residual"), scaled; "absolute"
    # makes them the PD targets themselves (action_scale * pi range).
    action_mode: str = "residual"
    action_scale: float = 0.5
    termination_distance: float = 0.3  # training; evaluation uses the 0.5 m success rule
    loop_seconds: float = 10.0
    max_episode_frames: int = 300
    rsi: bool = True
    smooth_sigma: float = 0.0
    # Residual root force/torque toward the reference (0 = none). Reported when used.
    assist: float = 0.0
    # Curriculum: the gain goes linearly from `assist` to `assist_final` over this many training steps.
    assist_final: float = 0.0
    assist_anneal_steps: int = 0
    weights: dict = field(default_factory=lambda: {
        "rotation": 0.35, "velocity": 0.1, "end_effector": 0.15, "body_position": 0.2, "root": 0.1,
        "object": 0.15, "contact": 0.05})

    def to_dict(self) -> dict:
        return asdict(self)


class ImitationTask:
    def __init__(self, ref: RefMotion, cfg: TaskConfig):
        self.ref, self.cfg = ref, cfg
        w = cfg.weights
        has_obj = ref.object_pos is not None
        self.observations: list[C.Observation] = [C.ProprioObs(), C.TargetObs(1), C.TargetObs(5), C.PhaseObs()]
        self.rewards: list[C.Reward] = [
            C.JointRotationReward(w["rotation"], 2.0, "rotation"),
            C.JointVelocityReward(w["velocity"], 0.005, "velocity"),
            C.EndEffectorReward(w["end_effector"], 40.0, "end_effector"),
            C.BodyPositionReward(w["body_position"], 100.0, "body_position"),
            C.RootReward(w["root"], 10.0, "root"),
        ]
        self.terminations: list[C.Termination] = [C.DriftTermination(cfg.termination_distance)]
        if has_obj:
            self.observations.append(C.ObjectObs())
            self.rewards += [C.ObjectPoseReward(w["object"], 20.0, "object"), C.ContactReward(w["contact"], 1.0, "contact")]
            self.terminations.append(C.ObjectDropTermination(1.0))
        self.total_weight = sum(r.weight for r in self.rewards)
        self.obs_size = int(sum(o.size(ref) for o in self.observations))
        self.num_dof = ref.dof_pos.shape[1]
        self.last_frame = min(ref.num_frames - 1, cfg.max_episode_frames)

    # ---- episode structure
    def start_frame(self, rng: np.random.Generator) -> int:
        if not self.cfg.rsi:
            return 0
        return int(rng.integers(0, max(1, self.last_frame - 10)))

    def reset_state(self, t: int) -> ResetState:
        """Reference-state initialisation: the body exactly at reference frame t."""
        r = self.ref
        s = ResetState(r.root_pos[t].copy(), r.root_quat[t].copy(), r.root_linvel[t].copy(), r.root_angvel[t].copy(),
                       r.dof_pos[t].copy(), r.dof_vel[t].copy())
        if r.object_pos is not None:
            s.object_pos, s.object_quat = r.object_pos[t].copy(), r.object_quat[t].copy()
            s.object_linvel, s.object_angvel = r.object_linvel[t].copy(), r.object_angvel[t].copy()
        return s

    def pd_targets(self, action: np.ndarray, t_next: int) -> np.ndarray:
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        if self.cfg.action_mode == "residual":
            return self.ref.dof_pos[t_next] + self.cfg.action_scale * a
        return self.cfg.action_scale * np.pi * a

    def root_assist(self, t: int) -> RootAssist | None:
        """Assistance toward the reference root at frame t (None when off)."""
        if self.cfg.assist <= 0:
            return None
        r = self.ref
        return RootAssist(r.root_pos[t], r.root_quat[t], r.root_linvel[t], r.root_angvel[t], self.cfg.assist)

    # ---- per step
    def observe(self, s: SimState, t: int) -> np.ndarray:
        return np.concatenate([o(s, self.ref, t) for o in self.observations]).astype(np.float32)

    def reward(self, s: SimState, t: int) -> tuple[float, dict]:
        terms = {r.name: r(s, self.ref, t) for r in self.rewards}
        total = sum(r.weight * terms[r.name] for r in self.rewards) / self.total_weight
        return float(total), terms

    def terminated(self, s: SimState, t: int) -> bool:
        return any(term(s, self.ref, t) for term in self.terminations)
