"""The perception recorder's clips (``hoi_motion_clip/1``, hoi_perception.pipeline.clip_recorder),
accepted as they are: raw per-frame estimates in the camera frame named by ``frame_id``.

Conversion: camera optical frame (x right, y down, z forward) -> REP 103 world (x forward,
y left, z up) assuming an upright camera, then the small rotation that makes the clip's mean
pelvis->neck direction vertical (cameras are rarely perfectly level). The floor height is fixed
later by retargeting. Rotations are fitted to the canonical joint positions (the body model's
pose parameters use the body model's own layout, which the positions already express).
Frames where the object was not seen are filled by interpolating its pose.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from hoi_perception.body.joints import BODY_JOINTS

from ..clip import ClipError, SkeletonClip
from ..objects import get_object
from ..rotations import rotation_between
from ..skeleton import INDEX
from .skillmimic import clip_from_positions

RECORDER_FORMAT = "hoi_motion_clip/1"
OPTICAL_TO_REP103 = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
HAND_CONTACT_DISTANCE = 0.15  # m, wrist to object origin: the recorder has no hand-object labels


def is_recorder_clip(z) -> bool:
    return "format" in z and str(z["format"]) == RECORDER_FORMAT


def load_recorder_clip(path: str | Path) -> SkeletonClip:
    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        if not is_recorder_clip(z):
            raise ClipError(f"{path}: not a {RECORDER_FORMAT} recorder clip")
        d = {k: z[k] for k in z.files}
    joints = d["joints"].astype(np.float64)
    T = joints.shape[0]
    if T == 0:
        raise ClipError(f"{path}: recorder clip has zero frames")
    if joints.ndim != 3 or joints.shape[1] != len(BODY_JOINTS):
        raise ClipError(f"{path}: recorder clip joint set {str(d.get('joint_set', ''))!r} has "
                        f"{joints.shape[1] if joints.ndim == 3 else '?'} joints, the canonical skeleton has {len(BODY_JOINTS)}")
    if not np.isfinite(joints).all():
        bad = np.unique(np.nonzero(~np.isfinite(joints))[0])[:5].tolist()
        raise ClipError(f"{path}: joints contain NaN/inf (frames {bad})")
    ts = (d["stamps_ns"].astype(np.int64) - int(d["stamps_ns"][0])) / 1e9
    if (np.diff(ts) <= 0).any():
        k = int(np.nonzero(np.diff(ts) <= 0)[0][0])
        raise ClipError(f"{path}: frames out of order: stamp[{k + 1}] is not after stamp[{k}]")
    frame_id = str(d.get("frame_id", ""))
    r = OPTICAL_TO_REP103 if "optical" in frame_id else np.eye(3)
    pos = joints @ r.T
    up = (pos[:, INDEX["neck"]] - pos[:, INDEX["pelvis"]]).mean(0)
    r_up = rotation_between(up, np.array([0.0, 0.0, 1.0]))
    r = r_up @ r
    pos = pos @ r_up.T
    kw: dict = {}
    ids = [str(x) for x in d.get("object_template_ids", [])]
    valid = d.get("object_valid", np.zeros((T, 0), bool))
    if ids and valid[:, 0].any():
        obj = get_object(ids[0])  # ClipError naming the id when unknown
        poses = d["object_poses"][:, 0]
        seen = np.nonzero(valid[:, 0])[0]
        opos = np.stack([np.interp(np.arange(T), seen, poses[seen, i]) for i in range(3)], 1) @ r.T
        rots = Rotation.from_quat(poses[seen, 3:7])
        orot = Slerp(seen.astype(float), rots)(np.clip(np.arange(T), seen[0], seen[-1])) if len(seen) > 1 else \
            Rotation.from_quat(np.repeat(poses[seen[:1], 3:7], T, 0))
        oquat = (Rotation.from_matrix(r) * orot).as_quat()
        wrists = pos[:, [INDEX["left_wrist"], INDEX["right_wrist"]]]
        touch = (np.linalg.norm(wrists - opos[:, None], axis=-1).min(1) < HAND_CONTACT_DISTANCE).astype(np.float32)
        kw = dict(object=obj, object_pos=opos, object_quat=oquat, contact_names=["hands:object"], contacts=touch[:, None])
    fps = float(d["fps"])
    clip = clip_from_positions(pos, fps, f"recorder:{path.name}", **kw)
    clip.timestamps = ts
    clip.meta = {"clip_id": str(d.get("clip_id", "")), "camera_frame": frame_id,
                 "body_model_id": str(d.get("body_model_id", "")), "joint_set": str(d.get("joint_set", ""))}
    return clip.validate()
