"""What the object segmenter sees: a square crop about the person, and its prompt.

The crop is the person's mask box grown by MARGIN (an object beside the person - a suitcase, a chair
- stays inside), warped to SIZE x SIZE. Five channels: the normalised RGB, the person's mask, and a
heatmap of the hands (a Gaussian at each hand point: the front end's hand landmarks where a hand
was found, else its body landmarks of the wrist and fingers). The person mask and hand points are
what a camera's front end gives and what the engine's renders give alike, so they carry the prompt
across the gap between renders and cameras.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hoi_perception.fullbody.preprocess import MEAN, STD, crop_affine

SIZE = 128
MARGIN = 1.6  # crop side over the person box's longer side
HAND_SIGMA = 0.03  # Gaussian width of a hand point, as a share of the crop side
# the front end's body landmarks that stand for a hand when no hand was detected
BODY_HAND_POINTS = ("left_wrist", "right_wrist", "left_index", "right_index", "left_pinky", "right_pinky",
                    "left_thumb", "right_thumb")


@dataclass(frozen=True)
class Prompt:
    inputs: np.ndarray  # (5, SIZE, SIZE) float32
    affine: np.ndarray  # (2, 3) image pixel -> crop pixel


def person_box(person_mask: np.ndarray, margin: float = MARGIN) -> tuple[float, float, float] | None:
    """(centre x, centre y, side) of the square crop about the person mask; None for an empty mask."""
    ys, xs = np.nonzero(person_mask)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0, max(float(max(x1 - x0, y1 - y0)) * margin, 8.0)


def hand_heatmap(points_crop: np.ndarray, size: int = SIZE, sigma: float = HAND_SIGMA) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the max of a Gaussian at each finite point (crop pixels)."""
    heat = np.zeros((size, size), np.float32)
    pts = np.asarray(points_crop, np.float64).reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(1)]
    if len(pts) == 0:
        return heat
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    s2 = 2.0 * (sigma * size) ** 2
    for x, y in pts:
        if -size <= x < 2 * size and -size <= y < 2 * size:
            np.maximum(heat, np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / s2), out=heat)
    return heat


def make_prompt(image: np.ndarray, person_mask: np.ndarray, hand_points: np.ndarray,
                box: tuple[float, float, float], size: int = SIZE) -> Prompt:
    """image (H, W, 3) uint8 RGB, person mask (H, W) bool, hand points (N, 2) image pixels -> inputs."""
    a = crop_affine(box, size)
    rgb = cv2.warpAffine(image, a, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    person = cv2.warpAffine(np.asarray(person_mask, np.uint8) * 255, a, (size, size), flags=cv2.INTER_LINEAR)
    pts = np.asarray(hand_points, np.float64).reshape(-1, 2)
    pts_crop = pts @ a[:, :2].T + a[:, 2]
    x = np.concatenate([((rgb.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1),
                        (person.astype(np.float32) / 255.0)[None], hand_heatmap(pts_crop, size)[None]], 0)
    return Prompt(np.ascontiguousarray(x, np.float32), a)


def uncrop_mask(prob_crop: np.ndarray, affine: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Crop probabilities (S, S) -> image probabilities (H, W) (0 outside the crop)."""
    h, w = shape[:2]
    return cv2.warpAffine(np.asarray(prob_crop, np.float32), affine, (w, h),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)
