"""The canonical body skeleton (``hoi_perception.body.joints``) and the kinematics every other
module of this package shares: forward kinematics, mapping a source skeleton onto the canonical
joints, and fitting joint rotations to joint positions."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hoi_perception.body.joints import BODY_JOINTS, BODY_PARENTS

from .rotations import rotation_between

J = len(BODY_JOINTS)
PARENTS = np.asarray(BODY_PARENTS, dtype=np.int64)
INDEX = {n: i for i, n in enumerate(BODY_JOINTS)}
CHILDREN: list[list[int]] = [[c for c in range(J) if PARENTS[c] == j] for j in range(J)]
END_EFFECTORS = tuple(INDEX[n] for n in ("left_wrist", "right_wrist", "left_foot", "right_foot", "head"))
FEET = (INDEX["left_ankle"], INDEX["right_ankle"], INDEX["left_foot"], INDEX["right_foot"])
HANDS = (INDEX["left_wrist"], INDEX["right_wrist"])


def forward_kinematics(root_pos: np.ndarray, local_rot: np.ndarray, rest_offsets: np.ndarray):
    """Global joint positions (T, J, 3) and rotation matrices (T, J, 3, 3).

    local_rot: (T, J, 3, 3); joint 0's entry is the root's global rotation. rest_offsets: (J, 3),
    the offset of each joint from its parent with every rotation at identity (row 0 unused).
    """
    T = local_rot.shape[0]
    g_rot = np.empty_like(local_rot)
    g_pos = np.empty((T, J, 3))
    g_rot[:, 0] = local_rot[:, 0]
    g_pos[:, 0] = root_pos
    for j in range(1, J):
        p = PARENTS[j]
        g_rot[:, j] = g_rot[:, p] @ local_rot[:, j]
        g_pos[:, j] = g_pos[:, p] + np.einsum("tij,j->ti", g_rot[:, p], rest_offsets[j])
    return g_pos, g_rot


def local_from_global(g_rot: np.ndarray) -> np.ndarray:
    loc = np.empty_like(g_rot)
    loc[:, 0] = g_rot[:, 0]
    for j in range(1, J):
        loc[:, j] = np.swapaxes(g_rot[:, PARENTS[j]], -1, -2) @ g_rot[:, j]
    return loc


@dataclass(frozen=True)
class JointSource:
    """Where a canonical joint comes from in a source skeleton: the position of source joint
    ``joint`` plus ``offset`` expressed in that joint's frame (for canonical joints a source has
    no joint for), and the rotation of source joint ``rot_from`` (defaults to ``joint``)."""

    joint: str
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rot_from: str | None = None
    measured: bool = True


def map_to_canonical(table: dict[str, JointSource], names: list[str], pos: np.ndarray, rot: np.ndarray):
    """Source global positions (T, S, 3) and rotations (T, S, 3, 3) -> canonical (T, J, 3),
    (T, J, 3, 3) and the per-joint 'measured' mask."""
    missing = [n for n in BODY_JOINTS if n not in table]
    if missing:
        raise ValueError(f"mapping table lacks canonical joints {missing}")
    idx = {n: i for i, n in enumerate(names)}
    T = pos.shape[0]
    out_p = np.empty((T, J, 3))
    out_r = np.empty((T, J, 3, 3))
    valid = np.zeros(J, dtype=bool)
    for j, name in enumerate(BODY_JOINTS):
        src = table[name]
        for n in (src.joint, src.rot_from or src.joint):
            if n not in idx:
                raise ValueError(f"source skeleton has no joint {n!r} (needed for canonical {name!r})")
        s = idx[src.joint]
        out_p[:, j] = pos[:, s] + np.einsum("tij,j->ti", rot[:, s], np.asarray(src.offset))
        out_r[:, j] = rot[:, idx[src.rot_from or src.joint]]
        valid[j] = src.measured
    return out_p, out_r, valid


def fit_rotations(positions: np.ndarray, rest_offsets: np.ndarray, init_global: np.ndarray | None = None,
                  min_bone: float = 0.01) -> np.ndarray:
    """Global joint rotations (T, J, 3, 3) whose forward kinematics from ``rest_offsets`` best
    reproduces ``positions`` (T, J, 3).

    Joints with two or more children: least-squares rotation (Kabsch) of the rest child offsets
    onto the observed child directions. One child: the smallest rotation that turns the bone onto
    its observed direction, applied to ``init_global`` (the source's rotation, which carries the
    twist that positions cannot tell). Leaves keep ``init_global`` or their parent's rotation.
    """
    T = positions.shape[0]
    out = np.empty((T, J, 3, 3))
    for j in range(J):
        if init_global is not None:
            base = init_global[:, j]
        elif j == 0:
            base = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        else:
            base = out[:, PARENTS[j]]
        kids = [c for c in CHILDREN[j] if np.linalg.norm(rest_offsets[c]) >= min_bone]
        if len(kids) >= 2:
            a = np.stack([rest_offsets[c] for c in kids])  # (K, 3)
            b = np.stack([positions[:, c] - positions[:, j] for c in kids], axis=1)  # (T, K, 3)
            h = np.einsum("ki,tkj->tij", a, b)
            u, _, vt = np.linalg.svd(h)
            d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
            dm = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
            dm[:, 2, 2] = d
            out[:, j] = np.swapaxes(vt, -1, -2) @ dm @ np.swapaxes(u, -1, -2)
        elif len(kids) == 1:
            c = kids[0]
            cur = np.einsum("tij,j->ti", base, rest_offsets[c])
            want = positions[:, c] - positions[:, j]
            out[:, j] = rotation_between(cur, want) @ base
        else:
            out[:, j] = base
    return out
