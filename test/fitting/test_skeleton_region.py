"""The region a detected person's body can cover: along its keypoint skeleton, not beyond its reach."""
from __future__ import annotations

import numpy as np

from hoi_perception.fitting.skeleton_region import skeleton_region
from hoi_perception.frontend.interface import PersonDetection

NAMES = ("nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee",
         "left_ankle", "right_ankle")


def _person(shift: float = 0.0) -> PersonDetection:
    kp = np.array([[100, 40], [85, 70], [115, 70], [90, 130], [110, 130], [90, 180], [110, 180], [90, 230],
                   [110, 230]], np.float64) + [shift, 0.0]
    return PersonDetection(NAMES, kp, np.ones(len(NAMES)), None, None, np.array([80, 30, 120, 240.0]), 1.0)


def test_region_follows_the_skeleton_within_its_reach():
    region = skeleton_region(_person(), (260, 300), reach=0.1)  # 21 px at a 210 px height
    assert region[100, 100] and region[200, 90] and region[40, 100]  # torso, a shin, the head
    assert region[200, 90 - 20] and not region[200, 90 - 24]  # a shin's reach
    assert not region[100, 200] and not region[250, 250]  # far from every bone
    moved = skeleton_region(_person(150.0), (260, 300), reach=0.1)
    assert moved[100, 250] and not moved[100, 100]


def test_keypoints_not_finite_are_skipped():
    p = _person()
    assert skeleton_region(p, (260, 300), 0.1)[245, 80]  # beside the left ankle
    kp = p.keypoints.copy()
    kp[NAMES.index("left_ankle")] = np.nan
    region = skeleton_region(PersonDetection(NAMES, kp, p.visibility, None, None, p.box, 1.0), (260, 300), 0.1)
    assert region[100, 100] and not region[245, 80]  # the torso stays, the lost shin goes
