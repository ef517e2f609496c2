"""PPO training (stable-baselines3) with resumable checkpoints, a CSV log and a progress bar.

Checkpoints are our own files (policy + optimiser state via torch.save, loaded with
weights_only=True; observation statistics and counters in JSON), so a killed run resumes from the
last one without unpickling anything.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor, VecNormalize
from tqdm import tqdm

from hoi_perception.training_log import TrainingLog

from .env import ImitationEnv
from .policy import export_policy
from .task import TaskConfig

CKPT = "checkpoint"


def make_vec_env(clip_path: str, cfg: TaskConfig, n_envs: int, seed: int = 0, backend: str = "mujoco"):
    def make(i):
        return lambda: ImitationEnv(clip_path, cfg, backend=backend, seed=seed + i)

    fns = [make(i) for i in range(n_envs)]
    venv = SubprocVecEnv(fns, start_method="fork") if n_envs > 1 else DummyVecEnv(fns)
    return VecNormalize(VecMonitor(venv), norm_obs=True, norm_reward=False, clip_obs=10.0)


def _save_checkpoint(out: Path, model: PPO, venv: VecNormalize, meta: dict) -> None:
    d = out / CKPT
    d.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp_ckpt_", dir=out))
    torch.save({"policy": model.policy.state_dict(), "optimizer": model.policy.optimizer.state_dict()}, tmp / "model.pt")
    np.savez(tmp / "obs_rms.npz", mean=venv.obs_rms.mean, var=venv.obs_rms.var, count=np.array(venv.obs_rms.count))
    (tmp / "state.json").write_text(json.dumps(dict(meta, num_timesteps=int(model.num_timesteps))))
    # swap the folder in: old -> .old, tmp -> checkpoint, drop .old (a kill leaves one complete copy)
    old = out / (CKPT + ".old")
    if d.exists():
        if old.exists():
            _rmtree(old)
        os.replace(d, old)
    os.replace(tmp, d)
    if old.exists():
        _rmtree(old)


def _rmtree(p: Path) -> None:
    import shutil  # noqa: PLC0415

    shutil.rmtree(p, ignore_errors=True)


def _load_checkpoint(out: Path, model: PPO, venv: VecNormalize) -> int:
    """Restore policy, optimiser and observation statistics from OUT/checkpoint (or the .old copy
    a kill mid-swap leaves); returns the step count stored with it (0 when there is none)."""
    for name in (CKPT, CKPT + ".old"):
        d = out / name
        if (d / "state.json").is_file() and (d / "model.pt").is_file():
            st = torch.load(d / "model.pt", weights_only=True, map_location="cpu")
            model.policy.load_state_dict(st["policy"])
            model.policy.optimizer.load_state_dict(st["optimizer"])
            rms = np.load(d / "obs_rms.npz")
            venv.obs_rms.mean, venv.obs_rms.var, venv.obs_rms.count = rms["mean"], rms["var"], float(rms["count"])
            n = int(json.loads((d / "state.json").read_text())["num_timesteps"])
            model.num_timesteps = n
            return n
    return 0


def assist_at(cfg: TaskConfig, step: int) -> float:
    """The assistance gain at a training step: ``cfg.assist``, then linearly to
    ``cfg.assist_final`` over ``cfg.assist_anneal_steps`` (a curriculum that takes the help away)."""
    if cfg.assist_anneal_steps <= 0:
        return cfg.assist
    a = min(1.0, max(0.0, step / cfg.assist_anneal_steps))
    return float(cfg.assist + a * (cfg.assist_final - cfg.assist))


LOG_FIELDS = ["timesteps", "wall_s", "assist", "steps_per_s", "ep_rew_mean", "ep_len_mean"]


class _Progress(BaseCallback):
    """tqdm bar, CSV row per rollout, checkpoint + exported policy every ``every`` steps, and the
    assistance schedule (set in every environment before each rollout)."""

    def __init__(self, out: Path, total: int, start: int, every: int, venv: VecNormalize, meta: dict,
                 cfg: TaskConfig, keep_policies: bool = False):
        super().__init__()
        self.out, self.total, self.start, self.every, self.venv, self.meta = out, total, start, every, venv, meta
        self.keep_policies = keep_policies
        self.cfg = dataclasses.replace(cfg)  # the schedule's own copy
        self.last_ckpt = start
        self.t0 = time.time()
        self.bar = None
        self.log = None

    def _on_training_start(self):
        # a resumed run drops the rows it logged past its checkpoint (it trains those steps again)
        self.log = TrainingLog(self.out / "train_log.csv", LOG_FIELDS, resume_at=self.start or None,
                               step_key="timesteps")
        self.bar = tqdm(total=self.total, initial=self.start, unit="step", dynamic_ncols=True, mininterval=2.0)

    def _on_rollout_start(self):
        if self.cfg.assist_anneal_steps > 0:
            self.training_env.env_method("set_assist", assist_at(self.cfg, self.num_timesteps))

    def _on_step(self) -> bool:
        self.bar.update(self.training_env.num_envs)
        if self.num_timesteps - self.last_ckpt >= self.every:
            self.save()
        return True

    def save(self):
        self.last_ckpt = self.num_timesteps
        meta = dict(self.meta, wall_time_s=self.meta.get("wall_time_s", 0.0) + time.time() - self.t0)
        # the exported policy records the assistance it was trained under at this step (eval uses it)
        meta["task"] = dict(meta["task"], assist=assist_at(self.cfg, self.num_timesteps))
        _save_checkpoint(self.out, self.model, self.venv, meta)
        meta = dict(meta, num_timesteps=int(self.num_timesteps))
        export_policy(self.model, self.venv.obs_rms.mean, self.venv.obs_rms.var, self.out, meta)
        if self.keep_policies:  # a curriculum's history: which gain each policy still needs
            export_policy(self.model, self.venv.obs_rms.mean, self.venv.obs_rms.var,
                          self.out / "policies" / f"step_{self.num_timesteps:09d}", meta)

    def _on_rollout_end(self):
        buf = self.model.ep_info_buffer
        row = {"timesteps": self.num_timesteps, "wall_s": round(time.time() - self.t0, 1),
               "assist": round(assist_at(self.cfg, self.num_timesteps), 4),
               "steps_per_s": round((self.num_timesteps - self.start) / max(time.time() - self.t0, 1e-9), 1),
               "ep_rew_mean": round(float(np.mean([e["r"] for e in buf])), 4) if buf else "",
               "ep_len_mean": round(float(np.mean([e["l"] for e in buf])), 2) if buf else ""}
        self.log.write(row)
        self.bar.set_postfix(rew=row["ep_rew_mean"], len=row["ep_len_mean"])

    def _on_training_end(self):
        self.bar.close()
        self.log.close()


def train(clip: str, steps: int, out: str | Path, n_envs: int = 1, cfg: TaskConfig | None = None, seed: int = 0,
          checkpoint_every: int = 50_000, n_steps: int = 2048, batch_size: int = 512, lr: float = 3e-4,
          net: tuple[int, ...] = (512, 256), backend: str = "mujoco", torch_threads: int = 1,
          init_from: str | Path | None = None, keep_policies: bool = False) -> dict:
    """Train (or resume) until ``steps`` environment steps in total. A new run may start from
    another run's checkpoint (``init_from``: policy, optimiser, observation statistics; its step
    count starts at 0). ``keep_policies`` also exports every checkpoint's policy to OUT/policies/step_N
    (e.g. to evaluate each stage of an assistance curriculum). Returns a summary."""
    torch.set_num_threads(torch_threads)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = cfg or TaskConfig()
    venv = make_vec_env(str(clip), cfg, n_envs, seed, backend)
    model = PPO("MlpPolicy", venv, n_steps=max(64, n_steps // n_envs), batch_size=batch_size, learning_rate=lr,
                n_epochs=5, gamma=0.95, gae_lambda=0.95, clip_range=0.2, ent_coef=0.0, seed=seed, verbose=0,
                policy_kwargs=dict(net_arch=dict(pi=list(net), vf=list(net)), log_std_init=-1.0), device="cpu")
    prev_meta = {}
    if (out / CKPT / "state.json").is_file():
        prev_meta = json.loads((out / CKPT / "state.json").read_text())
    start = _load_checkpoint(out, model, venv)
    if start == 0 and init_from is not None:
        if _load_checkpoint(Path(init_from), model, venv) == 0:
            raise FileNotFoundError(f"--init {init_from}: no checkpoint there")
        model.num_timesteps = 0
    meta = {"clip": str(clip), "task": cfg.to_dict(), "n_envs": n_envs, "seed": seed, "backend": backend,
            "wall_time_s": float(prev_meta.get("wall_time_s", 0.0)), "net": list(net), "resumed_from": start,
            "init_from": prev_meta.get("init_from", str(init_from) if init_from else None)}
    (out / "run.json").write_text(json.dumps(meta, indent=2))
    t0 = time.time()
    cb = _Progress(out, steps, start, checkpoint_every, venv, meta, cfg, keep_policies)
    if steps > start:
        model.learn(total_timesteps=steps - start, callback=cb, reset_num_timesteps=False)
        cb.save()
    venv.close()
    wall = time.time() - t0
    return {"out": str(out), "start_step": start, "num_timesteps": int(model.num_timesteps), "wall_s": round(wall, 1),
            "steps_per_s": round((model.num_timesteps - start) / max(wall, 1e-9), 1)}
