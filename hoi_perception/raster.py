"""Filled silhouettes of projected triangle meshes (OpenCV, no GL context).

Every triangle is filled on its own: `cv2.fillPoly` given all triangles at once fills by an
even-odd rule, so where triangles overlap (the front and back of any closed mesh) it leaves holes,
on meshes of few large triangles (boxes, procedural templates) about half the silhouette.
"""
from __future__ import annotations

import cv2
import numpy as np


def fill_triangles(triangles: np.ndarray, shape: tuple[int, int], shift: int = 0) -> np.ndarray:
    """(F, 3, 2) pixel coordinates (pixel centres at integers) -> boolean mask of `shape`;
    `shift` bits of sub-pixel precision."""
    mask = np.zeros(shape, np.uint8)
    pts = np.round(np.asarray(triangles, np.float64) * (1 << shift)).astype(np.int32)
    for tri in pts:
        cv2.fillConvexPoly(mask, tri, 1, lineType=cv2.LINE_8, shift=shift)
    return mask > 0
