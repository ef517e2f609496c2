"""Where a detected person's body can be in the image: the keypoint skeleton (limb bones, the torso's
quadrilateral, the head) grown by a reach proportional to the person's height.

A detector's person mask can hold more than the person - a neighbour it merged in, a bag, a held
object - and a silhouette term that asks the body to cover every mask pixel then drags a limb onto
them. Only mask pixels within the reach of the person's own skeleton are asked to be covered.
"""
from __future__ import annotations

import cv2
import numpy as np

from hoi_perception.frontend.interface import PersonDetection

REACH = 0.12  # of the person's height: a limb's half-width with loose clothes, beyond the keypoints
BONES = (
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"), ("left_ankle", "left_foot_index"), ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index"), ("left_shoulder", "right_shoulder"),
    ("left_hip", "right_hip"), ("left_wrist", "left_index"), ("right_wrist", "right_index"),
)
TORSO = ("left_shoulder", "right_shoulder", "right_hip", "left_hip")
HEAD = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")


def skeleton_region(person: PersonDetection, shape: tuple[int, int], reach: float = REACH) -> np.ndarray:
    """(H, W) bool: pixels within ``reach`` x the person's height of its keypoint skeleton. Keypoint
    names the detector lacks are skipped; with no usable keypoint the region is empty."""
    h, w = shape
    region = np.zeros((h, w), np.uint8)
    names = set(person.keypoint_names)
    ok = np.isfinite(person.keypoints).all(1)

    def at(name):
        i = person.index(name)
        return tuple(round(float(v)) for v in person.keypoints[i]) if ok[i] else None

    grow = max(1, round(reach * max(person.height_px, 8.0)))
    for a, b in BONES:
        if a in names and b in names and at(a) is not None and at(b) is not None:
            cv2.line(region, at(a), at(b), 1, 1)
    corners = [at(n) for n in TORSO if n in names]
    if len(corners) == 4 and all(c is not None for c in corners):
        cv2.fillConvexPoly(region, np.array(corners, np.int32), 1)
    head = [at(n) for n in HEAD if n in names and at(n) is not None]
    if head:
        pts = np.array(head, np.float64)
        centre = pts.mean(0)
        radius = float(np.linalg.norm(pts - centre, axis=1).max(initial=0.0))
        cv2.circle(region, tuple(round(float(v)) for v in centre), round(radius), 1, -1)
    if not region.any():
        return region > 0
    # within the reach of the drawn skeleton: a distance transform is linear in the pixels, where a
    # dilation by a reach-sized disk costs the disk's area per pixel (seconds on a 3-megapixel photo)
    return cv2.distanceTransform(1 - region, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) < grow + 0.5

