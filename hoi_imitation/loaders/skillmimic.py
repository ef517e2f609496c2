"""SkillMimic BallPlay clips: torch tensors (T, 337) at 60 fps, z-up, metres.

Columns (shared/data/ATTRIBUTION.md): root position 0:3, root rotation 3:6, 156 joint DoF 9:165,
53 body positions 165:324, ball position 324:327, ball rotation (exp-map) 327:330, ball-hand
contact flag 336. Body order is SkillMimic's mocap_humanoid.xml (depth first). The canonical
clip is built from the body positions; rotations are fitted to them (rest pose: the first frame
turned upright and facing +x), so the twist of limbs follows their parent.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..clip import ClipError, SkeletonClip, clip_from_global
from ..skeleton import INDEX, PARENTS, fit_rotations
from ..objects import get_object
from .contacts import foot_contacts

FPS = 60.0
WIDTH = 337
N_BODIES = 53
# canonical joint -> SkillMimic body index
BODY_INDEX = {
    "pelvis": 0, "left_hip": 1, "left_knee": 2, "left_ankle": 3, "left_foot": 4,
    "right_hip": 5, "right_knee": 6, "right_ankle": 7, "right_foot": 8,
    "spine1": 10, "spine2": 11, "spine3": 12, "neck": 13, "head": 14,
    "left_collar": 15, "left_shoulder": 16, "left_elbow": 17, "left_wrist": 18,
    "right_collar": 34, "right_shoulder": 35, "right_elbow": 36, "right_wrist": 37,
}


def upright_frame(pos0: np.ndarray) -> np.ndarray:
    """Pelvis frame from joint positions: y from right to left hip, z up the spine, x forward."""
    y = pos0[INDEX["left_hip"]] - pos0[INDEX["right_hip"]]
    up = pos0[INDEX["spine1"]] - pos0[INDEX["pelvis"]]
    y = y / np.linalg.norm(y)
    x = np.cross(y, up)
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=1)


def clip_from_positions(pos: np.ndarray, fps: float, source: str, valid: np.ndarray | None = None, **kw) -> SkeletonClip:
    """A canonical clip from joint positions alone (T, J, 3), z-up metres."""
    r0 = upright_frame(pos[0])
    rest_off = np.zeros((len(PARENTS), 3))
    rest_off[1:] = (pos[0, 1:] - pos[0, PARENTS[1:]]) @ r0
    g = fit_rotations(pos, rest_off)
    names, labels = foot_contacts(pos, fps)
    if "contact_names" in kw:
        names = names + kw.pop("contact_names")
        labels = np.concatenate([labels, kw.pop("contacts")], axis=1)
    v = np.ones(len(PARENTS), bool) if valid is None else valid
    return clip_from_global(fps, pos, g, rest_off, v, source, contact_names=names, contacts=labels, **kw)


def load_skillmimic(path: str | Path) -> SkeletonClip:
    path = Path(path)
    import torch  # noqa: PLC0415

    try:
        x = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - torch raises several types for bad files
        raise ClipError(f"{path}: cannot load SkillMimic tensor ({e})") from e
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != WIDTH:
        raise ClipError(f"{path}: SkillMimic clip has shape {x.shape}, expected (T, {WIDTH})")
    if x.shape[0] == 0:
        raise ClipError(f"{path}: SkillMimic clip has zero frames")
    if not np.isfinite(x).all():
        raise ClipError(f"{path}: SkillMimic clip contains NaN/inf (frames {np.unique(np.nonzero(~np.isfinite(x))[0])[:5].tolist()})")
    bodies = x[:, 165:324].reshape(-1, N_BODIES, 3)
    order = [BODY_INDEX[n] for n in sorted(BODY_INDEX, key=INDEX.get)]
    pos = bodies[:, order]
    ball = get_object("basketball")
    return clip_from_positions(
        pos, FPS, f"skillmimic:{path.parent.name}/{path.name}", object=ball, object_pos=x[:, 324:327].copy(),
        object_quat=Rotation.from_rotvec(x[:, 327:330]).as_quat(),
        contact_names=["hands:object"], contacts=x[:, 336:337].astype(np.float32))
