"""Body parts of anny's full-mesh vertices, for per-part contact scores.

A vertex belongs to the canonical joint that governs its most weighted skinning bone; joints are grouped
into the coarse parts contact papers report (DECO / DAMON style: head, torso, arms, hands, legs, feet).
"""
from __future__ import annotations

import numpy as np

PARTS = ("head", "torso", "arms", "hands", "legs", "feet")
_PART_OF_JOINT = {"neck": "head", "head": "head", "pelvis": "torso", "spine1": "torso", "spine2": "torso",
                  "spine3": "torso", "collar": "torso", "shoulder": "arms", "elbow": "arms", "wrist": "hands",
                  "hip": "legs", "knee": "legs", "ankle": "feet", "foot": "feet"}


def part_of_joint(name: str) -> str:
    """'left_elbow' -> arms; a finger joint ('left_index2') -> hands."""
    base = name.split("_", 1)[1] if name.startswith(("left_", "right_")) else name
    return _PART_OF_JOINT.get(base, "hands")


def vertex_parts(model=None) -> np.ndarray:
    """(V,) index into PARTS for every vertex of anny's full body mesh."""
    if model is None:
        from hoi_perception.assets import body_model

        model = body_model()
    weights, bones = model.anny.vertex_bone_weights, model.anny.vertex_bone_indices
    dominant = bones.gather(1, weights.argmax(dim=1, keepdim=True))[:, 0]
    slot = model._governor[dominant].numpy()
    names = ("pelvis",) + tuple(model.pose_joint_names)
    lookup = np.array([PARTS.index(part_of_joint(n)) for n in names])
    return lookup[slot]
