"""hoi-imitate: train, eval, report, convert."""
from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hoi-imitate", description="Teach a simulated humanoid to imitate a motion clip.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="PPO training; resumes from OUT/checkpoint if present")
    t.add_argument("--clip", required=True)
    t.add_argument("--steps", type=int, required=True, help="total environment steps")
    t.add_argument("--out", required=True)
    t.add_argument("--envs", type=int, default=1, help="environment processes (SubprocVecEnv when > 1)")
    t.add_argument("--checkpoint-every", type=int, default=50_000)
    t.add_argument("--n-steps", type=int, default=2048, help="rollout length summed over envs")
    t.add_argument("--batch-size", type=int, default=512)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--net", default="512,256")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--action-mode", choices=["residual", "absolute"], default="residual")
    t.add_argument("--assist", type=float, default=0.0, help="residual root force gain (0 = none)")
    t.add_argument("--assist-final", type=float, default=0.0, help="gain at the end of the anneal")
    t.add_argument("--assist-anneal-steps", type=int, default=0,
                   help="anneal the gain from --assist to --assist-final over this many steps (0 = constant)")
    t.add_argument("--init", help="start a new run from another run's checkpoint folder (e.g. an assisted run)")
    t.add_argument("--keep-policies", action="store_true",
                   help="also export every checkpoint's policy to OUT/policies/step_N (curriculum history)")
    t.add_argument("--termination", type=float, default=0.3, help="early-termination distance, m")
    t.add_argument("--backend", default="mujoco", choices=["mujoco", "isaaclab"])
    e = sub.add_parser("eval", help="success rate, G-MPJPE, MPJPE, object errors, rollout video")
    e.add_argument("--policy", help="folder or policy.safetensors; omit with --zero-action")
    e.add_argument("--clip", required=True)
    e.add_argument("--episodes", type=int, default=4)
    e.add_argument("--video", help="write an .mp4 of the first episode (sim + reference ghost)")
    e.add_argument("--zero-action", action="store_true", help="baseline: PD targets = reference")
    e.add_argument("--max-frames", type=int)
    e.add_argument("--assist", type=float, help="assistance gain (default: as trained; 0 = the figure without it)")
    r = sub.add_parser("report", help="what the clip asks that physics cannot do (JSON)")
    r.add_argument("--clip", required=True)
    r.add_argument("--smooth", type=float, default=0.0, help="Gaussian smoothing sigma in frames")
    c = sub.add_parser("convert", help="any supported clip -> project clip (.npz)")
    c.add_argument("src")
    c.add_argument("dst")
    c.add_argument("--kind", choices=["clip", "bvh", "deepmimic", "skillmimic"])
    a = ap.parse_args(argv)
    if a.cmd == "eval" and a.video:
        os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported: headless rendering

    from .clip import ClipError  # noqa: PLC0415

    try:
        if a.cmd == "train":
            from .task import TaskConfig  # noqa: PLC0415
            from .train import train  # noqa: PLC0415

            cfg = TaskConfig(action_mode=a.action_mode, assist=a.assist, termination_distance=a.termination,
                             assist_final=a.assist_final, assist_anneal_steps=a.assist_anneal_steps)
            res = train(a.clip, a.steps, a.out, n_envs=a.envs, cfg=cfg, seed=a.seed, checkpoint_every=a.checkpoint_every,
                        n_steps=a.n_steps, batch_size=a.batch_size, lr=a.lr,
                        net=tuple(int(x) for x in a.net.split(",")), backend=a.backend, init_from=a.init,
                        keep_policies=a.keep_policies)
        elif a.cmd == "eval":
            from .evaluate import evaluate  # noqa: PLC0415

            if a.policy is None and not a.zero_action:
                ap.error("eval needs --policy (or --zero-action)")
            res = evaluate(a.policy, a.clip, a.episodes, a.video, a.zero_action, a.max_frames, a.assist)
        elif a.cmd == "report":
            from .loaders import load_clip  # noqa: PLC0415
            from .retarget import physics_report  # noqa: PLC0415

            res = physics_report(load_clip(a.clip), smooth_sigma=a.smooth)
        else:
            from .clip import save_clip  # noqa: PLC0415
            from .loaders import load_clip  # noqa: PLC0415

            res = {"written": str(save_clip(load_clip(a.src, a.kind), a.dst))}
    except (ClipError, FileNotFoundError) as err:
        print(f"hoi-imitate: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
