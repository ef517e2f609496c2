"""The ground and the world frame of a clip, from the feet.

Ground: a plane through the foot points that hold still (speed under STILL_SPEED), found by RANSAC
among planes whose normal is within MAX_TILT of the body's mean up direction (pelvis -> neck); with
too few still foot points, the plane through the lowest foot points with that normal. World frame
(REP 103, gravity-aligned): z up = the plane's normal, origin on the plane under the first frame's
pelvis, x = the camera's viewing direction along the ground (the camera looks along +x). The camera
is taken to be still.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STILL_SPEED = 0.35  # m/s: a foot point slower than this may be on the ground
ON_GROUND = 0.06  # m: a still foot point this close to the plane is in ground contact
INLIER = 0.03  # m: RANSAC's plane tolerance
MAX_TILT = np.radians(35.0)
MIN_POINTS = 8


@dataclass
class Ground:
    normal: np.ndarray  # (3,) unit, camera frame, pointing up (away from the floor)
    offset: float  # normal . x + offset = 0 on the plane
    source: str  # "still feet (N points)" or "lowest feet"

    def height(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points) @ self.normal + self.offset


def speeds(points: np.ndarray, fps: float) -> np.ndarray:
    """(T, F, 3) -> (T, F) m/s by central differences (one-sided at the ends)."""
    if len(points) < 2:
        return np.zeros(points.shape[:2])
    return np.linalg.norm(np.gradient(points, axis=0), axis=-1) * fps


def body_up(pelvis: np.ndarray, neck: np.ndarray) -> np.ndarray:
    up = (np.asarray(neck) - np.asarray(pelvis)).mean(0)
    return up / max(np.linalg.norm(up), 1e-9)


def _plane(points: np.ndarray) -> tuple[np.ndarray, float]:
    c = points.mean(0)
    n = np.linalg.svd(points - c)[2][-1]
    return n, float(-n @ c)


def fit_ground(feet: np.ndarray, fps: float, up: np.ndarray, seed: int = 0) -> Ground:
    """``feet`` (T, F, 3) camera-frame foot points (heels, toes); ``up`` the body's mean up."""
    up = np.asarray(up, np.float64) / np.linalg.norm(up)
    flat = feet.reshape(-1, 3)
    still = feet[speeds(feet, fps) < STILL_SPEED]
    best = None
    if len(still) >= MIN_POINTS:
        rng = np.random.default_rng(seed)
        for _ in range(200):
            n, d = _plane(still[rng.choice(len(still), 3, replace=False)])
            if n @ up < 0:
                n, d = -n, -d
            if np.arccos(np.clip(n @ up, -1, 1)) > MAX_TILT:
                continue
            h = still @ n + d
            # the floor is the lowest well-supported plane: inliers count, points below it cost
            score = int((np.abs(h) < INLIER).sum()) - 2 * int((h < -INLIER).sum())
            if best is None or score > best[0]:
                best = (score, n, d)
    if best is not None and best[0] >= MIN_POINTS:
        n, d = best[1], best[2]
        inl = still[np.abs(still @ n + d) < INLIER]
        n2, d2 = _plane(inl)
        if n2 @ n < 0:
            n2, d2 = -n2, -d2
        if np.arccos(np.clip(n2 @ up, -1, 1)) <= MAX_TILT:
            n, d = n2, d2
        return Ground(n, float(d), f"still feet ({len(inl)} points)")
    h = flat @ up
    return Ground(up, float(-np.percentile(h, 2)), "lowest feet (too few still foot points)")


def foot_contacts(feet: np.ndarray, fps: float, ground: Ground) -> tuple[np.ndarray, np.ndarray]:
    """(T, F) still foot points (any contact) and those of them on the ground."""
    still = speeds(feet, fps) < STILL_SPEED
    return still, still & (np.abs(ground.height(feet)) < ON_GROUND)


def world_from_camera(ground: Ground, pelvis0: np.ndarray) -> np.ndarray:
    """(4, 4) camera optical frame -> gravity-aligned world frame (see the module's note)."""
    z = ground.normal / np.linalg.norm(ground.normal)
    x = np.zeros(3)
    for view in (np.array([0.0, 0.0, 1.0]), np.array([0.0, -1.0, 0.0])):  # a camera looking down: image up
        x = view - (view @ z) * z
        if np.linalg.norm(x) > 1e-3:
            break
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    r = np.stack([x, y, z])  # rows: world axes in camera coordinates
    origin = pelvis0 - ground.height(pelvis0[None])[0] * z
    out = np.eye(4)
    out[:3, :3] = r
    out[:3, 3] = -r @ origin
    return out
