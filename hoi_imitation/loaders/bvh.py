"""BVH reader (any channel order) and the CMU mocap skeleton -> canonical joints.

CMU BVH files are y-up. ``scaled_*`` files are in metres; the original files use CMU's unit
(inches / 0.45), converted by the default ``scale`` of ``load_bvh``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..clip import ClipError, SkeletonClip, clip_from_global
from ..skeleton import JointSource, fit_rotations, map_to_canonical
from .contacts import foot_contacts


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str]


@dataclass
class Bvh:
    joints: list[BvhJoint]
    end_sites: dict[int, np.ndarray]  # joint index -> end-site offset
    frame_time: float
    motion: np.ndarray  # (T, C)

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    def global_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """(T, S, 3) positions and (T, S, 3, 3) rotations of every joint."""
        T = self.motion.shape[0]
        S = len(self.joints)
        pos = np.zeros((T, S, 3))
        rot = np.zeros((T, S, 3, 3))
        col = 0
        for s, j in enumerate(self.joints):
            n = len(j.channels)
            data = self.motion[:, col:col + n]
            col += n
            trans = np.tile(j.offset, (T, 1))
            rot_axes, rot_idx = "", []
            for k, ch in enumerate(j.channels):
                if ch.endswith("position"):
                    trans[:, "XYZ".index(ch[0].upper())] = data[:, k]
                else:
                    rot_axes += ch[0].upper()
                    rot_idx.append(k)
            # BVH rotation channels are applied in the listed order, each about the already
            # rotated axes: intrinsic rotations (upper-case axes in scipy).
            local = (Rotation.from_euler(rot_axes, np.radians(data[:, rot_idx])).as_matrix()
                     if rot_axes else np.broadcast_to(np.eye(3), (T, 3, 3)))
            if j.parent < 0:
                pos[:, s], rot[:, s] = trans, local
            else:
                pos[:, s] = pos[:, j.parent] + np.einsum("tij,tj->ti", rot[:, j.parent], trans)
                rot[:, s] = rot[:, j.parent] @ local
        return pos, rot

    def rest_positions(self) -> np.ndarray:
        S = len(self.joints)
        p = np.zeros((S, 3))
        for s, j in enumerate(self.joints):
            p[s] = (p[j.parent] if j.parent >= 0 else 0.0) + (j.offset if j.parent >= 0 else 0.0)
        return p


def read_bvh(path: str | Path) -> Bvh:
    path = Path(path)
    try:
        tokens = path.read_text().split()
    except OSError as e:
        raise ClipError(f"{path}: cannot read BVH ({e})") from e
    i = 0
    joints: list[BvhJoint] = []
    ends: dict[int, np.ndarray] = {}
    stack: list[int] = []
    pending: str | None = None

    def err(msg):
        return ClipError(f"{path}: malformed BVH: {msg}")

    if not tokens or tokens[0] != "HIERARCHY":
        raise err("does not start with HIERARCHY")
    i = 1
    while i < len(tokens) and tokens[i] != "MOTION":
        t = tokens[i]
        if t in ("ROOT", "JOINT"):
            pending = tokens[i + 1]
            joints.append(BvhJoint(pending, stack[-1] if stack else -1, np.zeros(3), []))
            i += 2
        elif t == "End":
            pending = "__end__"
            i += 2
        elif t == "{":
            stack.append(len(joints) - 1 if pending != "__end__" else -2)
            i += 1
        elif t == "}":
            stack.pop()
            i += 1
        elif t == "OFFSET":
            off = np.array([float(x) for x in tokens[i + 1:i + 4]])
            if stack and stack[-1] == -2:
                parent = next(s for s in reversed(stack) if s >= 0)
                ends[parent] = off
            else:
                joints[-1].offset = off
            i += 4
        elif t == "CHANNELS":
            n = int(tokens[i + 1])
            joints[-1].channels = tokens[i + 2:i + 2 + n]
            i += 2 + n
        else:
            raise err(f"unexpected token {t!r}")
    if not joints:
        raise err("no joints")
    try:
        n_frames = int(tokens[i + 2])
        frame_time = float(tokens[i + 5])
        values = np.array([float(x) for x in tokens[i + 6:]])
    except (IndexError, ValueError) as e:
        raise err(f"bad MOTION section ({e})") from e
    n_ch = sum(len(j.channels) for j in joints)
    if n_frames == 0:
        raise ClipError(f"{path}: BVH has zero frames")
    if values.size != n_frames * n_ch:
        raise err(f"{values.size} motion values, expected {n_frames} frames x {n_ch} channels")
    return Bvh(joints, ends, frame_time, values.reshape(n_frames, n_ch))


# CMU (ASF converted to BVH) joint names -> canonical joints. CMU's lowerneck sits at the same
# place as Chest2, so spine3 is placed at CMU "Neck", neck at "Head" and head at the head end site.
# CMU BVH: y up, the subject faces +z with its left on +x in the rest pose.
CMU_TO_REP103 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _cmu_table(head_end: tuple[float, float, float]) -> dict[str, JointSource]:
    t = {
        "pelvis": JointSource("Hips"), "spine1": JointSource("Chest"), "spine2": JointSource("Chest2"),
        "spine3": JointSource("Neck"), "neck": JointSource("Head"),
        "head": JointSource("Head", offset=head_end),
    }
    for side, s in (("left", "Left"), ("right", "Right")):
        t |= {
            f"{side}_hip": JointSource(f"{s}Hip"), f"{side}_knee": JointSource(f"{s}Knee"),
            f"{side}_ankle": JointSource(f"{s}Ankle"), f"{side}_foot": JointSource(f"{s}Toe"),
            f"{side}_collar": JointSource(f"{s}Collar"), f"{side}_shoulder": JointSource(f"{s}Shoulder"),
            f"{side}_elbow": JointSource(f"{s}Elbow"), f"{side}_wrist": JointSource(f"{s}Wrist"),
        }
    return t


CMU_REQUIRED = ("Hips", "Chest", "Chest2", "Neck", "Head", "LeftHip", "LeftKnee", "LeftAnkle", "LeftToe",
                "RightHip", "RightKnee", "RightAnkle", "RightToe", "LeftCollar", "LeftShoulder", "LeftElbow",
                "LeftWrist", "RightCollar", "RightShoulder", "RightElbow", "RightWrist")


def load_bvh(path: str | Path, scale: float | None = None) -> SkeletonClip:
    """A CMU-skeleton BVH as a canonical clip. ``scale`` converts file units to metres (default:
    1 for ``scaled_*`` files, else 0.056444 = inches * (1/0.45) CMU calibration)."""
    path = Path(path)
    bvh = read_bvh(path)
    missing = [n for n in CMU_REQUIRED if n not in bvh.names]
    if missing:
        raise ClipError(f"{path}: unexpected BVH skeleton: joints {missing} of the CMU skeleton are missing "
                        f"(found {bvh.names[:8]}{'...' if len(bvh.names) > 8 else ''})")
    if scale is None:
        scale = 1.0 if path.name.startswith("scaled_") else 0.0254 / 0.45
    pos, rot = bvh.global_transforms()
    head_idx = bvh.names.index("Head")
    head_end = tuple(bvh.end_sites.get(head_idx, np.array([0.0, 0.09, 0.0])))
    table = _cmu_table(head_end)
    rest = bvh.rest_positions()
    rest_rot = np.broadcast_to(np.eye(3), (1, len(bvh.joints), 3, 3))
    can_rest, _, _ = map_to_canonical(table, bvh.names, rest[None], rest_rot)
    can_pos, can_rot, valid = map_to_canonical(table, bvh.names, pos, rot)
    return _finish(can_pos * scale, can_rot, can_rest[0] * scale, valid, 1.0 / bvh.frame_time,
                   f"bvh:{path.name}", CMU_TO_REP103)


def _finish(pos, rot, rest_pos, valid, fps, source, world, loop=False) -> SkeletonClip:
    """Shared tail of the y-up loaders: to z-up, rest offsets, rotations refit to the positions."""
    from ..skeleton import PARENTS  # noqa: PLC0415

    pos = pos @ world.T
    rot = world @ rot @ world.T
    rest_pos = rest_pos @ world.T
    rest_off = np.zeros_like(rest_pos)
    rest_off[1:] = rest_pos[1:] - rest_pos[PARENTS[1:]]
    g = fit_rotations(pos, rest_off, init_global=rot)
    names, labels = foot_contacts(pos, fps)
    return clip_from_global(fps, pos, g, rest_off, valid, source, loop=loop, contact_names=names, contacts=labels)
