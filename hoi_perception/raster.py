"""Pinhole projection, filled silhouettes of projected triangle meshes (OpenCV, no GL context) and
the IoU that compares silhouettes.

Every triangle is filled on its own: `cv2.fillPoly` given all triangles at once fills by an
even-odd rule, so where triangles overlap (the front and back of any closed mesh) it leaves holes,
on meshes of few large triangles (boxes, procedural templates) about half the silhouette.
"""
from __future__ import annotations

import cv2
import numpy as np


def pinhole_project(points: np.ndarray, k: np.ndarray, min_depth: float | None = None) -> np.ndarray:
    """Camera-frame points (N, 3), metres, REP 103 optical frame -> pixels (N, 2) for a 3x3 K.

    min_depth None: points at or behind the camera (z <= 1 um) give NaN, for drawing and scoring.
    A number: depths are clamped to it, so every point stays finite (the silhouette fit needs a
    value and a gradient for each vertex, even one that has crossed the camera plane)."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    if min_depth is None:
        z = np.where(p[:, 2] > 1e-6, p[:, 2], np.nan)
    else:
        z = np.maximum(p[:, 2], min_depth)
    return np.stack([k[0, 0] * p[:, 0] / z + k[0, 2], k[1, 1] * p[:, 1] / z + k[1, 2]], axis=1)


def fill_triangles(triangles: np.ndarray, shape: tuple[int, int], shift: int = 0) -> np.ndarray:
    """(F, 3, 2) pixel coordinates (pixel centres at integers) -> boolean mask of `shape`;
    `shift` bits of sub-pixel precision."""
    mask = np.zeros(shape, np.uint8)
    pts = np.round(np.asarray(triangles, np.float64) * (1 << shift)).astype(np.int32)
    for tri in pts:
        cv2.fillConvexPoly(mask, tri, 1, lineType=cv2.LINE_8, shift=shift)
    return mask > 0


def mask_iou(pred, gt, empty: float = 0.0) -> float:
    """Intersection over union of two boolean masks of one shape; `empty` when both are empty
    (0 where an empty prediction should score nothing, NaN to leave the pair out of a mean)."""
    p, g = np.asarray(pred, dtype=bool), np.asarray(gt, dtype=bool)
    if p.shape != g.shape:
        raise ValueError(f"mask shapes differ: {p.shape} vs {g.shape}")
    union = np.count_nonzero(p | g)
    return float(np.count_nonzero(p & g) / union) if union else float(empty)
