"""Where a detected body or hand starts: its limbs swung onto the detector's 3D landmarks, then
placed in the camera frame - depth by weak perspective (the world landmarks' image-plane extent
against the keypoints'), a point on the ray through a pixel, and a rigid perspective-n-point
refinement of the whole posed model onto the 2D keypoints."""
from __future__ import annotations

import cv2
import numpy as np

from hoi_perception.geometry import rotation_between


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


def swing_onto(parents, rest: np.ndarray, root: np.ndarray, targets: dict) -> dict[int, np.ndarray]:
    """Local rotations (3x3 per joint index) that swing each segment of a rest skeleton onto a target
    direction, parents first, without twist. ``rest``: (J, 3) joints at identity rotations;
    ``targets``: joint -> (child joint, direction of the segment joint -> child); ``root``: the root's
    rotation. Joints without a target keep their rest rotation (identity)."""
    glob = {0: np.asarray(root, np.float64)}
    local = {}
    for j in range(1, len(parents)):
        g_parent = glob[parents[j]]
        rot = np.eye(3)
        if j in targets:
            child, direction = targets[j]
            swing = rotation_between(g_parent @ (rest[child] - rest[j]), np.asarray(direction, np.float64))
            rot = g_parent.T @ swing @ g_parent
        local[j] = rot
        glob[j] = g_parent @ rot
    return local


def perspective_placement(points: np.ndarray, root: np.ndarray, pixels: np.ndarray, camera: np.ndarray,
                          min_points: int = 6) -> tuple[np.ndarray, np.ndarray] | None:
    """The rigid motion about ``root`` that best reprojects camera-frame ``points`` onto ``pixels``
    (least squares, iterated from where they are): (rotation applied about the root, new root
    position), or None where it is not defined (too few points, a solution behind the camera)."""
    points = np.asarray(points, np.float64)
    pixels = np.asarray(pixels, np.float64)
    if len(points) < min_points or not (np.isfinite(points).all() and np.isfinite(pixels).all()):
        return None
    root = np.asarray(root, np.float64)
    ok, rvec, tvec = cv2.solvePnP(points - root, pixels, np.asarray(camera, np.float64), None, np.zeros((3, 1)),
                                  root.reshape(3, 1).copy(), True, cv2.SOLVEPNP_ITERATIVE)
    if not ok or not (np.isfinite(rvec).all() and np.isfinite(tvec).all()) or tvec[2, 0] <= 0:
        return None
    rot, _ = cv2.Rodrigues(rvec)
    moved = (points - root) @ rot.T + tvec.ravel()
    if (moved[:, 2] <= 0).any():
        return None
    return rot, tvec.ravel()
