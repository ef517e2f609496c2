"""Canonical joint lists shared by every body/hand backend, motion clips and networks.

These names, their order and their parents are a stable contract: other modules store
data indexed by them. Append new joints at the end of a list; never reorder or rename.

Body (22 joints): SMPL / SMPL-X body order and parents, so that SMPL-style data maps
one to one. Hands (21 joints each): OpenPose / MANO-with-tips order, wrist first, then
thumb, index, middle, ring, pinky, four joints each from the base to the tip.

Every joint carries a rotation in the network parameterisation except the leaves that
only mark a position (the four finger/thumb tips of a hand). The body root (pelvis) and
the hand root (wrist) take the global orientation; see ``interface.py``.

The ``ANNY_*`` tables map each canonical joint to the anny 0.6.2 bone (rig ``"anny"``,
MakeHuman naming) whose head is the joint position and whose subtree the joint's rotation
drives. Fingertips ("tail" entries) mark the far end of the distal finger bone; the anny
backend uses the fixed skin vertex farthest along that bone (anny 0.6.2's default rig keeps
no bone tails).
"""
from __future__ import annotations

from typing import Final

# --- body -----------------------------------------------------------------------------
BODY_JOINTS: Final[tuple[str, ...]] = (
    "pelvis",  # 0
    "left_hip",  # 1
    "right_hip",  # 2
    "spine1",  # 3
    "left_knee",  # 4
    "right_knee",  # 5
    "spine2",  # 6
    "left_ankle",  # 7
    "right_ankle",  # 8
    "spine3",  # 9
    "left_foot",  # 10  ball of the foot (toe bases)
    "right_foot",  # 11
    "neck",  # 12
    "left_collar",  # 13
    "right_collar",  # 14
    "head",  # 15
    "left_shoulder",  # 16
    "right_shoulder",  # 17
    "left_elbow",  # 18
    "right_elbow",  # 19
    "left_wrist",  # 20
    "right_wrist",  # 21
)
BODY_PARENTS: Final[tuple[int, ...]] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
)

# --- hands ----------------------------------------------------------------------------
HAND_JOINTS: Final[tuple[str, ...]] = (
    "wrist",  # 0
    "thumb1", "thumb2", "thumb3", "thumb4",  # 1-4: CMC, MCP, IP, tip
    "index1", "index2", "index3", "index4",  # 5-8: MCP, PIP, DIP, tip
    "middle1", "middle2", "middle3", "middle4",  # 9-12
    "ring1", "ring2", "ring3", "ring4",  # 13-16
    "pinky1", "pinky2", "pinky3", "pinky4",  # 17-20
)
HAND_PARENTS: Final[tuple[int, ...]] = (
    -1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19,
)
HAND_TIPS: Final[tuple[int, ...]] = (4, 8, 12, 16, 20)
# Finger joints that carry a rotation: every hand joint but the wrist (global orientation
# of a hand model, body wrist of the full body) and the tips (15 joints, MANO order).
HAND_POSE_JOINTS: Final[tuple[str, ...]] = tuple(
    name for i, name in enumerate(HAND_JOINTS) if i != 0 and i not in HAND_TIPS
)
# Body joints that carry a local rotation (the pelvis carries the global orientation).
BODY_POSE_JOINTS: Final[tuple[str, ...]] = BODY_JOINTS[1:]

SIDES: Final[tuple[str, str]] = ("left", "right")

# --- mapping to anny 0.6.2 bones (rig "anny"; ".L"/".R" suffix for the side) -----------
ANNY_BODY_BONES: Final[dict[str, str]] = {
    "pelvis": "root",
    "left_hip": "upperleg01.L",
    "right_hip": "upperleg01.R",
    "spine1": "spine04",
    "left_knee": "lowerleg01.L",
    "right_knee": "lowerleg01.R",
    "spine2": "spine02",
    "left_ankle": "foot.L",
    "right_ankle": "foot.R",
    "spine3": "spine01",
    "left_foot": "toe3-1.L",
    "right_foot": "toe3-1.R",
    "neck": "neck01",
    "left_collar": "clavicle.L",
    "right_collar": "clavicle.R",
    "head": "head",
    "left_shoulder": "upperarm01.L",
    "right_shoulder": "upperarm01.R",
    "left_elbow": "lowerarm01.L",
    "right_elbow": "lowerarm01.R",
    "left_wrist": "wrist.L",
    "right_wrist": "wrist.R",
}
# The foot joint's rotation drives every toe, not only the middle one whose base marks it.
ANNY_BODY_EXTRA_DRIVEN: Final[dict[str, tuple[str, ...]]] = {
    "left_foot": tuple(f"toe{t}-1.L" for t in range(1, 6)),
    "right_foot": tuple(f"toe{t}-1.R" for t in range(1, 6)),
}

_FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def anny_hand_bones(side: str) -> dict[str, tuple[str, str]]:
    """Canonical hand joint -> (anny bone, "head" | "tail") for side "left" or "right".

    anny/MakeHuman number the digits finger1 (thumb) to finger5 (pinky), three bones each;
    the index..pinky metacarpals stay rigid with the wrist.
    """
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    s = "L" if side == "left" else "R"
    table: dict[str, tuple[str, str]] = {"wrist": (f"wrist.{s}", "head")}
    for d, finger in enumerate(_FINGERS, start=1):
        for k in (1, 2, 3):
            table[f"{finger}{k}"] = (f"finger{d}-{k}.{s}", "head")
        table[f"{finger}4"] = (f"finger{d}-3.{s}", "tail")
    return table


def _check_tree(names: tuple[str, ...], parents: tuple[int, ...]) -> None:
    assert len(names) == len(parents) and len(set(names)) == len(names)
    assert parents[0] == -1 and all(0 <= p < i for i, p in enumerate(parents) if i)


_check_tree(BODY_JOINTS, BODY_PARENTS)
_check_tree(HAND_JOINTS, HAND_PARENTS)
assert len(HAND_POSE_JOINTS) == 15

__all__ = [
    "BODY_JOINTS",
    "BODY_PARENTS",
    "BODY_POSE_JOINTS",
    "HAND_JOINTS",
    "HAND_PARENTS",
    "HAND_POSE_JOINTS",
    "HAND_TIPS",
    "SIDES",
    "ANNY_BODY_BONES",
    "ANNY_BODY_EXTRA_DRIVEN",
    "anny_hand_bones",
]
