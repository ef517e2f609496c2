"""Which object mask a frame gets, in this order, and why: the user's mask where one is given; from
depth where the frame has a depth image (the surface at the hands, `depth.py`); else the learned
segmenter prompted by the person (`segmenter.py`). Each frame says which it used."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hoi_perception.frontend.interface import HandDetection, PersonDetection
from hoi_perception.objectmask.prompt import BODY_HAND_POINTS

MIN_VISIBILITY = 0.3  # body landmarks less sure than this do not prompt


@dataclass(frozen=True)
class ObjectMask:
    mask: np.ndarray | None  # (H, W) bool
    source: str  # "given", "depth", "segmenter", or "" for none
    reason: str
    confidence: float = 1.0  # the segmenter's mean probability over its mask; 1 for a given or depth mask


def hand_points(person: PersonDetection, hands: list[HandDetection]) -> np.ndarray:
    """(N, 2) pixels where the person's hands are: the detected hands' landmarks, and the body
    landmarks of the wrists and fingers the detector is sure of."""
    pts = [h.keypoints for h in hands]
    names = [n for n in BODY_HAND_POINTS if n in person.keypoint_names]
    idx = [person.index(n) for n in names]
    if idx:
        keep = person.visibility[idx] >= MIN_VISIBILITY
        pts.append(person.keypoints[idx][keep])
    pts = [np.asarray(p, np.float64).reshape(-1, 2) for p in pts]
    out = np.concatenate(pts) if pts else np.zeros((0, 2))
    return out[np.isfinite(out).all(1)]


def choose_object_mask(image: np.ndarray, given: np.ndarray | None, depth: np.ndarray | None,
                       person_mask: np.ndarray, points: np.ndarray, segmenter=None) -> ObjectMask:
    """The frame's object mask by the order above; ``mask`` None (with every reason) where none is had."""
    if given is not None:
        return ObjectMask(np.asarray(given) > 0, "given", "the user's object mask")
    reasons = []
    if depth is not None:
        from .depth import object_mask_from_depth

        found = object_mask_from_depth(depth, person_mask, points)
        if found.mask is not None:
            return ObjectMask(found.mask, "depth", found.reason)
        reasons.append(f"depth: {found.reason}")
    if segmenter is not None:
        seg = segmenter.segment(image, person_mask, points)
        if seg.mask is not None:
            return ObjectMask(seg.mask, "segmenter", seg.reason, float(seg.probability[seg.mask].mean()))
        reasons.append(f"segmenter: {seg.reason}")
    else:
        reasons.append("no object segmenter loaded")
    return ObjectMask(None, "", "; ".join(reasons))
