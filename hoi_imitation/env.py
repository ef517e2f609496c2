"""Gymnasium environment: the task on one simulator backend."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np

from .clip import SkeletonClip
from .loaders import load_clip
from .retarget import build_reference
from .sim.factory import make_simulator
from .task import ImitationTask, TaskConfig


class ImitationEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, clip: SkeletonClip | str | Path, cfg: TaskConfig | None = None, backend: str = "mujoco",
                 seed: int | None = None):
        super().__init__()
        # a copy: set_assist changes this env's gain, never the caller's config (shared in-process)
        self.cfg = dataclasses.replace(cfg) if cfg is not None else TaskConfig()
        self.clip = clip if isinstance(clip, SkeletonClip) else load_clip(clip)
        self.ref = build_reference(self.clip, self.cfg.control_fps, self.cfg.loop_seconds,
                                   smooth_sigma=self.cfg.smooth_sigma)
        self.task = ImitationTask(self.ref, self.cfg)
        self.sim = make_simulator(backend, self.ref.rest_offsets, self.ref.object, 1.0 / self.cfg.control_fps)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.task.obs_size,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (self.task.num_dof,), np.float32)
        self.t = 0
        self.start = 0
        self._rng = np.random.default_rng(seed)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        start = (options or {}).get("start")
        self.t = self.start = int(start) if start is not None else self.task.start_frame(self._rng)
        self.sim.reset(self.task.reset_state(self.t))
        s = self.sim.state()
        return self.task.observe(s, self.t), {"frame": self.t}

    def step(self, action):
        t_next = self.t + 1
        targets = self.task.pd_targets(action, t_next)
        assist = self.task.root_assist(t_next)
        self.sim.step(targets, assist)
        self.t = t_next
        s = self.sim.state()
        reward, terms = self.task.reward(s, self.t)
        terminated = self.task.terminated(s, self.t)
        truncated = (self.t >= self.task.last_frame) and not terminated
        info = {"frame": self.t, "terms": terms}
        if assist is not None:  # mean |force|, |torque| of the help during this step
            info["assist_force_n"], info["assist_torque_nm"] = assist.mean_norms()
        return self.task.observe(s, self.t), reward, terminated, truncated, info

    def set_assist(self, gain: float) -> None:
        """Change the assistance gain (the training curriculum calls this between rollouts)."""
        self.cfg.assist = float(gain)

    def close(self):
        self.sim.close()
