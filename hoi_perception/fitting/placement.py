"""Where a detected body or hand starts in the camera frame: depth by weak perspective (the world
landmarks' image-plane extent against the keypoints'), then a point on the ray through a pixel."""
from __future__ import annotations

import numpy as np


def spread(points: np.ndarray) -> float:
    """Mean distance of (N, 2) points from their centre."""
    p = np.asarray(points, np.float64)
    return float(np.linalg.norm(p - p.mean(0), axis=1).mean())


def focal(camera: np.ndarray) -> float:
    k = np.asarray(camera, np.float64)
    return 0.5 * (k[0, 0] + k[1, 1])


def weak_perspective_depth(camera: np.ndarray, pixels: np.ndarray, extent_m: float) -> float:
    """The depth at which points spread by ``extent_m`` metres spread as ``pixels`` do in the image."""
    return focal(camera) * extent_m / max(spread(pixels), 1.0)


def point_at_depth(camera: np.ndarray, pixel, z: float) -> np.ndarray:
    """The camera-frame point seen at ``pixel`` (x, y) at depth ``z``."""
    k = np.asarray(camera, np.float64)
    return np.array([(pixel[0] - k[0, 2]) / k[0, 0], (pixel[1] - k[1, 2]) / k[1, 1], 1.0]) * z
