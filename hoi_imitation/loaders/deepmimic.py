"""DeepMimic humanoid3d motion files (JSON: {"Loop", "Frames"}; 44 values per frame).

Frame layout: duration, root position (3), root rotation (w, x, y, z), then per joint a
(w, x, y, z) quaternion (spherical) or one angle about z (revolute knees, elbows) in the order of
``_JOINTS``. The character is y-up, x forward, z to its right (data/characters/humanoid3d.txt).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..clip import ClipError, SkeletonClip
from ..rotations import Y_UP_TO_Z_UP
from ..skeleton import JointSource, map_to_canonical
from .bvh import _finish

# name, parent, offset in the parent frame (m), dof (4 = quaternion, 1 = revolute about z, 0 = fixed)
_JOINTS = [
    ("root", -1, (0.0, 0.0, 0.0), 4),
    ("chest", 0, (0.0, 0.236151, 0.0), 4),
    ("neck", 1, (0.0, 0.223894, 0.0), 4),
    ("right_hip", 0, (0.0, 0.0, 0.084887), 4),
    ("right_knee", 3, (0.0, -0.421546, 0.0), 1),
    ("right_ankle", 4, (0.0, -0.409870, 0.0), 4),
    ("right_shoulder", 1, (-0.02405, 0.24350, 0.18311), 4),
    ("right_elbow", 6, (0.0, -0.274788, 0.0), 1),
    ("right_wrist", 7, (0.0, -0.258947, 0.0), 0),
    ("left_hip", 0, (0.0, 0.0, -0.084887), 4),
    ("left_knee", 9, (0.0, -0.421546, 0.0), 1),
    ("left_ankle", 10, (0.0, -0.409870, 0.0), 4),
    ("left_shoulder", 1, (-0.02405, 0.24350, -0.18311), 4),
    ("left_elbow", 12, (0.0, -0.274788, 0.0), 1),
    ("left_wrist", 13, (0.0, -0.258947, 0.0), 0),
]
FRAME_SIZE = 1 + 3 + sum(d for *_, d in _JOINTS)  # 44


def _table() -> dict[str, JointSource]:
    t = {
        "pelvis": JointSource("root"),
        "spine1": JointSource("root", (0.0, 0.118, 0.0), measured=False),
        "spine2": JointSource("chest"),
        "spine3": JointSource("chest", (0.0, 0.12, 0.0), measured=False),
        "neck": JointSource("neck"),
        "head": JointSource("neck", (0.0, 0.12, 0.0), measured=False),
    }
    for side, z in (("left", -1.0), ("right", 1.0)):
        t |= {
            f"{side}_hip": JointSource(f"{side}_hip"), f"{side}_knee": JointSource(f"{side}_knee"),
            f"{side}_ankle": JointSource(f"{side}_ankle"),
            f"{side}_foot": JointSource(f"{side}_ankle", (0.10, -0.045, 0.0), measured=False),
            f"{side}_collar": JointSource("chest", (-0.024, 0.21, 0.07 * z), measured=False),
            f"{side}_shoulder": JointSource(f"{side}_shoulder"), f"{side}_elbow": JointSource(f"{side}_elbow"),
            f"{side}_wrist": JointSource(f"{side}_wrist"),
        }
    return t


def _fk(frames: np.ndarray):
    T = frames.shape[0]
    S = len(_JOINTS)
    pos = np.zeros((T, S, 3))
    rot = np.zeros((T, S, 3, 3))
    col = 4
    for s, (name, parent, off, dof) in enumerate(_JOINTS):
        if s == 0:
            wxyz = frames[:, 4:8]
            col = 8
            local = Rotation.from_quat(wxyz[:, [1, 2, 3, 0]]).as_matrix()
            pos[:, 0] = frames[:, 1:4]
            rot[:, 0] = local
            continue
        if dof == 4:
            local = Rotation.from_quat(frames[:, col:col + 4][:, [1, 2, 3, 0]]).as_matrix()
        elif dof == 1:
            local = Rotation.from_rotvec(np.outer(frames[:, col], [0.0, 0.0, 1.0])).as_matrix()
        else:
            local = np.broadcast_to(np.eye(3), (T, 3, 3))
        col += dof
        pos[:, s] = pos[:, parent] + np.einsum("tij,j->ti", rot[:, parent], np.asarray(off))
        rot[:, s] = rot[:, parent] @ local
    return pos, rot


def load_deepmimic(path: str | Path) -> SkeletonClip:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ClipError(f"{path}: not a DeepMimic JSON motion ({e})") from e
    frames = np.asarray(data.get("Frames", []), dtype=np.float64)
    if frames.size == 0:
        raise ClipError(f"{path}: DeepMimic motion has zero frames")
    if frames.ndim != 2 or frames.shape[1] != FRAME_SIZE:
        raise ClipError(f"{path}: DeepMimic frames have {frames.shape[-1]} values, the humanoid3d skeleton "
                        f"needs {FRAME_SIZE}")
    if not np.isfinite(frames).all():
        raise ClipError(f"{path}: DeepMimic frames contain NaN/inf")
    dur = frames[:, 0]
    if (dur[:-1] <= 0).any():
        raise ClipError(f"{path}: non-positive frame duration at frame {int(np.nonzero(dur[:-1] <= 0)[0][0])}")
    ts = np.concatenate([[0.0], np.cumsum(dur[:-1])])
    fps = 1.0 / float(np.median(dur[:-1]))
    pos, rot = _fk(frames)
    names = [j[0] for j in _JOINTS]
    can_pos, can_rot, valid = map_to_canonical(_table(), names, pos, rot)
    rest_p, _ = _fk(np.concatenate([[0, 0, 0, 0, 1, 0, 0, 0], np.tile([1, 0, 0, 0], 2),
                                    *[[1, 0, 0, 0] if d == 4 else [0] * d for *_, d in _JOINTS[3:]]])[None])
    can_rest, _, _ = map_to_canonical(_table(), names, rest_p, np.broadcast_to(np.eye(3), (1, len(names), 3, 3)))
    clip = _finish(can_pos, can_rot, can_rest[0], valid, fps, f"deepmimic:{path.name}", Y_UP_TO_Z_UP,
                   loop=str(data.get("Loop", "none")).lower() == "wrap")
    clip.timestamps = ts
    return clip
