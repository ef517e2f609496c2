"""Imitation throughput: environment steps/s (MuJoCo backend, zero actions, resets on
termination) and PPO steps/s (SB3, collection + update). Prints figures; --json adds one line."""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from hoi_perception.paths import shared_data_dir

DEFAULT_CLIP = shared_data_dir() / "mocap" / "deepmimic" / "humanoid3d_walk.txt"


def env_steps_per_s(clip: str, steps: int, assist: float = 0.0) -> float:
    from hoi_imitation.env import ImitationEnv
    from hoi_imitation.task import TaskConfig

    env = ImitationEnv(clip, TaskConfig(assist=assist), seed=0)
    env.reset()
    zero = np.zeros(env.action_space.shape)
    t = time.perf_counter()
    for _ in range(steps):
        _, _, term, trunc, _ = env.step(zero)
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - t)


def ppo_steps_per_s(clip: str, steps: int, envs: int) -> float:
    from hoi_imitation.train import train

    with tempfile.TemporaryDirectory() as d:
        res = train(clip, steps, d, n_envs=envs, n_steps=1024, batch_size=256, checkpoint_every=10 ** 9)
    return res["steps_per_s"]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clip", default=str(DEFAULT_CLIP))
    ap.add_argument("--env-steps", type=int, default=2000)
    ap.add_argument("--ppo-steps", type=int, default=4096)
    ap.add_argument("--envs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    e = env_steps_per_s(a.clip, a.env_steps)
    print(f"env steps/s (1 process, 30 Hz control, 8 physics substeps): {e:.0f}")
    ea = env_steps_per_s(a.clip, a.env_steps, assist=1.0)
    print(f"env steps/s with assistance (wrench re-evaluated every substep): {ea:.0f}")
    p = ppo_steps_per_s(a.clip, a.ppo_steps, a.envs)
    print(f"PPO steps/s ({a.envs} env process(es), MLP 512-256, CPU): {p:.0f}")
    if a.json:
        print(json.dumps({"bench": "imitation", "env_steps_per_s": round(e, 1),
                          "env_steps_per_s_assist": round(ea, 1), "ppo_steps_per_s": round(p, 1),
                          "envs": a.envs, "clip": Path(a.clip).name}))


if __name__ == "__main__":
    main()
