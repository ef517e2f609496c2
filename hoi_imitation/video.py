"""Rollout video: the simulated body (orange) and the reference as a translucent blue ghost
beside it, offscreen MuJoCo rendering (MUJOCO_GL=egl, or osmesa)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")  # effective only if mujoco is not imported yet


def write_rollout_video(env, qpos_frames: list, ref_idx: np.ndarray, path: str | Path, width: int = 640,
                        height: int = 360, ghost_offset: float = 1.2, png: str | Path | None = None) -> Path:
    import cv2  # noqa: PLC0415
    import mujoco  # noqa: PLC0415

    from .humanoid import build_mjcf  # noqa: PLC0415
    from .sim.mujoco_backend import MujocoBinding  # noqa: PLC0415

    model = mujoco.MjModel.from_xml_string(build_mjcf(env.ref.rest_offsets, env.ref.object, ghost=True))
    data = mujoco.MjData(model)
    sim_b, ghost_b = MujocoBinding(model), MujocoBinding(model, "ghost_")
    src_b = env.sim.b
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp_" + path.name)
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), env.cfg.control_fps, (width, height))
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    cam.distance, cam.elevation, cam.azimuth = 5.0, -18.0, 135.0  # three-quarter view, both bodies visible
    shift = np.array([0.0, ghost_offset, 0.0])
    ref = env.ref
    with mujoco.Renderer(model, height, width) as r:
        for k, (q, t) in enumerate(zip(qpos_frames, ref_idx)):
            root = q[src_b.root_qpos:src_b.root_qpos + 7]
            sim_b.set_qpos(data, root[:3], root[[4, 5, 6, 3]], q[src_b.dof_qpos],
                           None if src_b.obj_qpos is None else q[src_b.obj_qpos:src_b.obj_qpos + 3],
                           None if src_b.obj_qpos is None else q[src_b.obj_qpos + 3:src_b.obj_qpos + 7][[1, 2, 3, 0]])
            ghost_b.set_qpos(data, ref.root_pos[t] + shift, ref.root_quat[t], ref.dof_pos[t],
                             None if ref.object_pos is None else ref.object_pos[t] + shift,
                             None if ref.object_quat is None else ref.object_quat[t])
            mujoco.mj_forward(model, data)
            cam.lookat[:] = root[:3] + shift / 2
            cam.lookat[2] = 0.9
            r.update_scene(data, cam)
            img = r.render()
            writer.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            if png is not None and k == min(len(qpos_frames) - 1, 15):
                cv2.imwrite(str(png), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    writer.release()
    os.replace(tmp, path)
    return path
