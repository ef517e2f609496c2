"""Retargeting a clip to the simulated humanoid: the reference motion the task tracks, clean-up
(ground height, optional smoothing), and a report of what the clip asks that physics cannot do.

The humanoid is built from the clip's own rest offsets, so retargeting is exact up to the
rigid-skeleton residual (the clip's joint positions vs forward kinematics of its rotations),
which the report states.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from .clip import SkeletonClip
from .rotations import euler_xyz_from_quat, mat_to_quat, quat_from_euler_xyz, quat_to_mat
from .skeleton import INDEX, J, forward_kinematics

CONTROL_FPS = 30.0


@dataclass
class RefMotion:
    """The reference the task tracks, at the control rate, already tiled for looping clips."""

    fps: float
    root_pos: np.ndarray
    root_quat: np.ndarray
    root_linvel: np.ndarray
    root_angvel: np.ndarray
    dof_pos: np.ndarray
    dof_vel: np.ndarray
    body_pos: np.ndarray
    body_quat: np.ndarray
    body_linvel: np.ndarray
    rest_offsets: np.ndarray
    joint_valid: np.ndarray
    clip_pos: np.ndarray  # the clip's own joint positions (before the rigid skeleton)
    object: object = None
    object_pos: np.ndarray | None = None
    object_quat: np.ndarray | None = None
    object_linvel: np.ndarray | None = None
    object_angvel: np.ndarray | None = None
    contact_names: list[str] = field(default_factory=list)
    contacts: np.ndarray | None = None
    cycle_frames: int = 0  # > 0 for looping clips

    @property
    def num_frames(self) -> int:
        return self.root_pos.shape[0]


def _angvel(quat: np.ndarray, fps: float) -> np.ndarray:
    r = Rotation.from_quat(quat.reshape(-1, 4))
    n = len(quat)
    rel = r[1:] * r[:-1].inv()
    w = rel.as_rotvec() * fps
    return np.concatenate([w, w[-1:]], axis=0) if n > 1 else np.zeros((1, 3))


def _grad(x: np.ndarray, fps: float) -> np.ndarray:
    return np.gradient(x, axis=0) * fps if len(x) > 1 else np.zeros_like(x)


def _tile(clip: SkeletonClip, seconds: float) -> SkeletonClip:
    """Repeat a looping clip (last frame = first pose) with the root advancing each cycle."""
    L = clip.num_frames - 1
    reps = int(np.ceil(seconds * clip.fps / L)) + 1
    disp = clip.root_pos[-1] - clip.root_pos[0]
    disp[2] = 0.0
    idx = np.concatenate([np.arange(L)] * reps + [[L]])
    shift = np.concatenate([np.full(L, k) for k in range(reps)] + [[reps - 1]])[:, None] * disp
    out = SkeletonClip(fps=clip.fps, timestamps=np.arange(len(idx)) / clip.fps, root_pos=clip.root_pos[idx] + shift,
                     joint_quat=clip.joint_quat[idx], joint_pos=clip.joint_pos[idx] + shift[:, None],
                     rest_offsets=clip.rest_offsets, joint_valid=clip.joint_valid, source=clip.source, loop=True,
                     object=clip.object, contact_names=clip.contact_names, meta=clip.meta)
    if clip.object_pos is not None:
        out.object_pos, out.object_quat = clip.object_pos[idx] + shift, clip.object_quat[idx]
    if clip.contacts is not None:
        out.contacts = clip.contacts[idx]
    return out


def foot_bottom_heights(body_pos: np.ndarray, body_quat: np.ndarray, rest_offsets: np.ndarray) -> np.ndarray:
    """Lowest corner of each foot's boxes (the humanoid's geometry), per frame (T, 2)."""
    from .humanoid import foot_corners  # noqa: PLC0415

    corners = foot_corners(rest_offsets)
    rot = quat_to_mat(body_quat)
    out = np.full((body_pos.shape[0], 2), np.inf)
    for k, side in enumerate(("left", "right")):
        for part in ("ankle", "foot"):
            j = INDEX[f"{side}_{part}"]
            z = body_pos[:, j, None, 2] + np.einsum("tj,kj->tk", rot[:, j, 2], corners[j])
            out[:, k] = np.minimum(out[:, k], z.min(1))
    return out


def build_reference(clip: SkeletonClip, fps: float = CONTROL_FPS, loop_seconds: float = 10.0,
                    fix_ground: bool = True, smooth_sigma: float = 0.0) -> RefMotion:
    """Resample, tile (looping clips), clean up and precompute everything the task needs."""
    c = clip.resampled(fps)
    if clip.loop and c.num_frames > 2:
        c = _tile(c, loop_seconds)
    root_pos = c.root_pos.copy()
    loc = c.joint_quat
    dof = np.unwrap(euler_xyz_from_quat(loc[:, 1:]), axis=0).reshape(len(loc), -1)
    if smooth_sigma > 0:
        root_pos = gaussian_filter1d(root_pos, smooth_sigma, axis=0, mode="nearest")
        dof = gaussian_filter1d(dof, smooth_sigma, axis=0, mode="nearest")
        rq = Rotation.from_quat(loc[:, 0]).as_rotvec()
        root_quat = Rotation.from_rotvec(gaussian_filter1d(np.unwrap(rq, axis=0), smooth_sigma, axis=0, mode="nearest")).as_quat()
    else:
        root_quat = loc[:, 0]
    local = np.concatenate([root_quat[:, None], quat_from_euler_xyz(dof.reshape(len(loc), J - 1, 3))], axis=1)
    body_pos, body_rot = forward_kinematics(root_pos, quat_to_mat(local), c.rest_offsets)
    clip_pos = c.joint_pos.copy()
    obj_pos = None if c.object_pos is None else c.object_pos.copy()
    if fix_ground:
        # Robust floor level: most frames have a foot down; a few outlier frames may then penetrate
        # (reported), instead of one bad frame lifting the whole clip off the floor.
        dz = -np.percentile(foot_bottom_heights(body_pos, mat_to_quat(body_rot), c.rest_offsets).min(1), 10)
        root_pos[:, 2] += dz
        body_pos[..., 2] += dz
        clip_pos[..., 2] += dz
        if obj_pos is not None:
            obj_pos[:, 2] += dz
    ref = RefMotion(
        fps=fps, root_pos=root_pos, root_quat=root_quat, root_linvel=_grad(root_pos, fps),
        root_angvel=_angvel(root_quat, fps), dof_pos=dof, dof_vel=_grad(dof, fps), body_pos=body_pos,
        body_quat=mat_to_quat(body_rot), body_linvel=_grad(body_pos, fps), rest_offsets=c.rest_offsets,
        joint_valid=c.joint_valid, clip_pos=clip_pos, object=c.object, contact_names=list(c.contact_names),
        contacts=c.contacts, cycle_frames=(clip.resampled(fps).num_frames - 1) if clip.loop else 0)
    if obj_pos is not None:
        ref.object_pos, ref.object_quat = obj_pos, c.object_quat
        ref.object_linvel, ref.object_angvel = _grad(obj_pos, fps), _angvel(c.object_quat, fps)
    return ref


def physics_report(clip: SkeletonClip, fps: float = CONTROL_FPS, smooth_sigma: float = 0.0) -> dict:
    """What the clip asks that physics cannot do, measured on the retargeted reference with the
    simulated humanoid's geometry (MuJoCo collision detection, no dynamics)."""
    import mujoco  # noqa: PLC0415

    from .humanoid import build_mjcf  # noqa: PLC0415
    from .sim.mujoco_backend import MujocoBinding  # noqa: PLC0415

    raw = build_reference(clip, fps, loop_seconds=0.0, fix_ground=False)
    ref = build_reference(clip, fps, loop_seconds=0.0, fix_ground=True, smooth_sigma=smooth_sigma)
    model = mujoco.MjModel.from_xml_string(build_mjcf(ref.rest_offsets, ref.object))
    data = mujoco.MjData(model)
    b = MujocoBinding(model)
    floor = model.geom("floor").id
    obj_geoms = set(np.nonzero(model.geom_bodyid == b.obj_body)[0].tolist()) if b.obj_body is not None else set()
    ground_pen, obj_pen = np.zeros(ref.num_frames), np.zeros(ref.num_frames)
    for t in range(ref.num_frames):
        b.set_qpos(data, ref.root_pos[t], ref.root_quat[t], ref.dof_pos[t],
                   None if ref.object_pos is None else ref.object_pos[t], None if ref.object_quat is None else ref.object_quat[t])
        mujoco.mj_forward(model, data)
        for i in range(data.ncon):
            con = data.contact[i]
            g = {int(con.geom1), int(con.geom2)}
            depth = max(0.0, -float(con.dist))
            if floor in g and not (g & obj_geoms):
                ground_pen[t] = max(ground_pen[t], depth)
            elif g & obj_geoms and floor not in g:
                obj_pen[t] = max(obj_pen[t], depth)
    # foot skating: a foot whose sole is within 2 cm of the floor but slides
    heights = foot_bottom_heights(ref.body_pos, ref.body_quat, ref.rest_offsets)
    skate = []
    for k, side in enumerate(("left", "right")):
        v = np.linalg.norm(ref.body_linvel[:, INDEX[f"{side}_foot"], :2], axis=-1)
        low = heights[:, k] < 0.02
        skate.append((low, v))
    low_all = np.concatenate([s[0] for s in skate])
    v_all = np.concatenate([s[1] for s in skate])
    sliding = low_all & (v_all > 0.1)
    acc = np.gradient(ref.body_linvel, axis=0) * fps
    jerk = np.gradient(acc, axis=0) * fps
    # at the clip's own frames: resampling interpolates positions and rotations differently
    rigid = np.linalg.norm(clip.fk_positions() - clip.joint_pos, axis=-1)
    n = ref.num_frames
    rep = {
        "frames": int(n), "fps": fps, "duration_s": round(n / fps, 3),
        "ground_offset_fixed_mm": round(1000 * float(ref.root_pos[0, 2] - raw.root_pos[0, 2]), 1),
        "rigid_skeleton_residual_mm": {"mean": round(1000 * float(rigid.mean()), 1), "max": round(1000 * float(rigid.max()), 1)},
        "ground_penetration": {"frames_share": round(float((ground_pen > 0.005).mean()), 3),
                               "max_mm": round(1000 * float(ground_pen.max()), 1)},
        "foot_skating": {"frames_share": round(float(sliding.mean()), 3),
                         "mean_slide_speed_m_s": round(float(v_all[sliding].mean()) if sliding.any() else 0.0, 3),
                         "slide_mm_per_contact_frame": round(1000 * float((v_all * low_all).sum() / max(low_all.sum(), 1) / fps), 1)},
        "jitter": {"mean_accel_m_s2": round(float(np.linalg.norm(acc, axis=-1).mean()), 2),
                   "mean_jerk_m_s3": round(float(np.linalg.norm(jerk, axis=-1).mean()), 1),
                   "frames_accel_over_50_m_s2": round(float((np.linalg.norm(acc, axis=-1).max(-1) > 50).mean()), 3)},
        "airborne_frames_share": round(float((heights.min(1) > 0.05).mean()), 3),
        "smoothing_sigma_frames": smooth_sigma,
    }
    if ref.object_pos is not None:
        rep["object_penetration"] = {"frames_share": round(float((obj_pen > 0.005).mean()), 3),
                                     "max_mm": round(1000 * float(obj_pen.max()), 1)}
        # an object that neither rests on the floor, nor is touched, nor falls freely is floating
        oacc = np.gradient(ref.object_linvel, axis=0) * fps
        touched = np.zeros(n, bool)
        if ref.contacts is not None and "hands:object" in ref.contact_names:
            touched = ref.contacts[:, ref.contact_names.index("hands:object")] > 0.5
        free_fall = np.abs(oacc[:, 2] + 9.81) < 3.0
        on_floor = ref.object_pos[:, 2] < 0.2
        rep["object_unsupported_frames_share"] = round(float((~touched & ~free_fall & ~on_floor).mean()), 3)
    return rep
