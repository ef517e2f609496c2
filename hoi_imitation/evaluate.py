"""Evaluation: PHC success rule, G-MPJPE, local MPJPE, object errors; optional rollout video.

Metrics come from the project's one metrics module (hoi_perception.metrics). Errors are measured
against the retargeted reference (what the humanoid is asked to track); the rigid-skeleton
residual between that reference and the clip's own joint positions is reported beside them.
"""
from __future__ import annotations

import os
from pathlib import Path

# MuJoCo picks its GL backend when it is first imported: headless EGL unless the user chose one.
os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from hoi_perception import metrics  # noqa: E402

from .env import ImitationEnv  # noqa: E402
from .rotations import quat_to_mat  # noqa: E402
from .task import TaskConfig  # noqa: E402

SUCCESS_DISTANCE = 0.5


def rollout(env: ImitationEnv, act, start: int = 0, max_frames: int | None = None, record: bool = False) -> dict:
    """One episode from reference frame ``start``; stops when the 0.5 m success rule fails."""
    obs, _ = env.reset(options={"start": start})
    end = env.task.last_frame if max_frames is None else min(env.task.last_frame, start + max_frames)
    sim_pos, ref_idx, obj, frames = [env.sim.state().body_pos.copy()], [start], [], []
    s = env.sim.state()
    if s.object_pos is not None:
        obj.append((s.object_pos.copy(), s.object_quat.copy()))
    if record:
        frames.append(env.sim.data.qpos.copy())
    failed = False
    help_n, help_nm = [], []
    while env.t < end:
        obs, _, _, _, info = env.step(act(obs))
        if "assist_force_n" in info:
            help_n.append(info["assist_force_n"])
            help_nm.append(info["assist_torque_nm"])
        s = env.sim.state()
        sim_pos.append(s.body_pos.copy())
        ref_idx.append(env.t)
        if s.object_pos is not None:
            obj.append((s.object_pos.copy(), s.object_quat.copy()))
        if record:
            frames.append(env.sim.data.qpos.copy())
        if np.linalg.norm(s.body_pos - env.ref.body_pos[env.t], axis=-1).mean() > SUCCESS_DISTANCE:
            failed = True
            break
    return {"sim": np.array(sim_pos), "ref_idx": np.array(ref_idx), "obj": obj, "failed": failed, "qpos": frames,
            "assist_force_n": help_n, "assist_torque_nm": help_nm}


def evaluate(policy_path: str | Path | None, clip: str | Path, episodes: int = 4, video: str | Path | None = None,
             zero_action: bool = False, max_frames: int | None = None, assist: float | None = None) -> dict:
    """Run ``episodes`` deterministic episodes, each from its start frame to the end of the
    reference (the first from frame 0), and report metrics. ``zero_action`` evaluates the reference PD
    targets alone (the no-policy baseline). ``assist`` overrides the assistance gain the policy was
    trained with (0: the figure without assistance)."""
    from .policy import Policy  # noqa: PLC0415

    pol = None if zero_action else Policy(policy_path)
    cfg = TaskConfig(**{k: v for k, v in pol.meta["task"].items()}) if pol is not None else TaskConfig()
    cfg.rsi = False
    if assist is not None:
        cfg.assist = float(assist)
    cfg.termination_distance = 1e9  # the success rule below decides
    env = ImitationEnv(clip, cfg)
    act = (lambda o: np.zeros(env.action_space.shape)) if pol is None else pol
    n = env.task.last_frame
    # Every episode runs to the end of the reference, so episodes are comparable: starts spread
    # over the first cycle of a looping clip, or over the first 20 % of a clip that does not loop.
    span = env.ref.cycle_frames if env.ref.cycle_frames > 0 else int(0.2 * n)
    starts = sorted({int(x) for x in np.linspace(0, max(0, span - 1), episodes).round()}) if episodes > 1 else [0]
    results, all_sim, all_ref, all_clip = [], [], [], []
    obj_pos_err, obj_rot_err = [], []
    help_n, help_nm = [], []
    valid = env.ref.joint_valid
    for k, st in enumerate(starts):
        r = rollout(env, act, st, max_frames, record=(video is not None and k == 0))
        help_n += r["assist_force_n"]
        help_nm += r["assist_torque_nm"]
        ref = env.ref.body_pos[r["ref_idx"]]
        all_sim.append(r["sim"][:, valid])
        all_ref.append(ref[:, valid])
        all_clip.append(env.ref.clip_pos[r["ref_idx"]][:, valid])
        ok = metrics.imitation_success(r["sim"], ref, SUCCESS_DISTANCE)
        results.append({"start": st, "frames": int(len(r["ref_idx"])), "success": bool(ok and not r["failed"])})
        if r["obj"]:
            p = np.array([o[0] for o in r["obj"]])
            q = np.array([o[1] for o in r["obj"]])
            obj_pos_err.append(metrics.translation_error(p, env.ref.object_pos[r["ref_idx"]]))
            obj_rot_err.append(metrics.rotation_error_deg(quat_to_mat(q), quat_to_mat(env.ref.object_quat[r["ref_idx"]])))
        if video is not None and k == 0:
            from .video import write_rollout_video  # noqa: PLC0415

            write_rollout_video(env, r["qpos"], r["ref_idx"], video, png=Path(video).with_suffix(".png"))
    sim, ref = np.concatenate(all_sim), np.concatenate(all_ref)
    rep = {
        "clip": str(clip), "episodes": len(starts), "success_rate": float(np.mean([x["success"] for x in results])),
        "g_mpjpe_mm": round(metrics.g_mpjpe(sim, ref), 1), "mpjpe_mm": round(metrics.mpjpe(sim, ref), 1),
        "rigid_skeleton_residual_mm": round(metrics.g_mpjpe(ref, np.concatenate(all_clip)), 1),
        "frames_tracked_share": round(float(sum(x["frames"] for x in results)
                                            / sum(min(n, st + (max_frames or n)) - st + 1 for st in starts)), 3),
        "per_episode": results, "assist": cfg.assist, "action_mode": cfg.action_mode,
        "policy": None if pol is None else str(policy_path),
    }
    if help_n:  # how much the assistance still carries: mean |force| against the body's weight
        rep["assist_force_mean_n"] = round(float(np.mean(help_n)), 1)
        rep["assist_force_body_weight_share"] = round(float(np.mean(help_n)) / (9.81 * env.sim.body_mass), 3)
        rep["assist_torque_mean_nm"] = round(float(np.mean(help_nm)), 1)
    if obj_pos_err:
        rep["object_pos_error_mm"] = round(1000 * float(np.mean(np.concatenate(obj_pos_err))), 1)
        rep["object_rot_error_deg"] = round(float(np.mean(np.concatenate(obj_rot_err))), 1)
    if video is not None:
        rep["video"] = str(video)
    env.close()
    return rep
