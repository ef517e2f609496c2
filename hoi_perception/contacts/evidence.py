"""Per-vertex image evidence for the contact network's fusion step: where each vertex of the posed body
projects relative to the object's mask, and each point of the posed object relative to the person's mask.

Two numbers per vertex, in the crop the networks see: 1 inside the other's mask, else 0; and the distance
from the projection to that mask, in crop widths, clipped at `MAX_DISTANCE` and divided by it. A vertex
behind the camera, or a mask that is empty, gives "outside, far".
"""
from __future__ import annotations

import cv2
import numpy as np

MAX_DISTANCE = 0.25  # crop widths: farther than this is "far"


def mask_distance(mask: np.ndarray) -> np.ndarray:
    """(S, S) distance in pixels from each pixel to the nearest mask pixel (0 inside)."""
    m = np.asarray(mask) > 0.5
    if not m.any():
        return np.full(m.shape, np.inf, np.float32)
    return cv2.distanceTransform((~m).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def crop_pixels(points: np.ndarray, intrinsics: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame points (N, 3) -> (N, 2) pixels of the crop whose intrinsics are `intrinsics`
    ([fx, fy, cx, cy] / size, `fullbody.preprocess.Crop`), and which points lie ahead of the camera
    (the others are projected at depth 1 mm)."""
    p = np.asarray(points, np.float64).reshape(-1, 3)
    ahead = np.isfinite(p).all(1) & (p[:, 2] > 1e-3)
    z = np.maximum(p[:, 2], 1e-3)
    f = np.asarray(intrinsics, np.float64) * size
    return np.stack([f[0] * p[:, 0] / z + f[2], f[1] * p[:, 1] / z + f[3]], 1), ahead


def vertex_evidence(points: np.ndarray, intrinsics: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Camera-frame points (N, 3) and the crop's intrinsics ([fx, fy, cx, cy] / S) -> (N, 2) evidence
    against the crop's (S, S) mask."""
    size = mask.shape[0]
    uv, ahead = crop_pixels(points, intrinsics, size)
    u, v = np.where(ahead, uv[:, 0], -1e6), np.where(ahead, uv[:, 1], -1e6)
    dist = mask_distance(mask)
    ui = np.clip(np.floor(u), 0, size - 1).astype(int)
    vi = np.clip(np.floor(v), 0, size - 1).astype(int)
    # off the crop: the distance to the crop's edge adds to the edge pixel's own
    off = np.hypot(np.maximum(np.maximum(-u, u - size + 1), 0), np.maximum(np.maximum(-v, v - size + 1), 0))
    d = (dist[vi, ui] + off) / size
    inside = (d == 0) & ahead
    far = np.where(ahead, np.minimum(d, MAX_DISTANCE) / MAX_DISTANCE, 1.0)
    return np.stack([inside.astype(np.float32), far.astype(np.float32)], 1)
