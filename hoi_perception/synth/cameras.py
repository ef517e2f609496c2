"""Cameras for the data engine: realistic intrinsics, look-at extrinsics, wide-baseline view pairs.

Conventions: the world frame is REP 103 (x forward, y left, z up, metres). Extrinsics are
world->camera transforms into the OpenCV optical frame (z forward, x right, y down), the frame
ROS calls `*_optical_frame` (REP 105 / sensor_msgs/CameraInfo).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: intrinsics K (3x3) at (width, height) and world->optical extrinsics (4x4)."""

    K: np.ndarray
    world_to_cam: np.ndarray
    width: int
    height: int

    @property
    def cam_to_world(self) -> np.ndarray:
        return invert_rigid(self.world_to_cam)

    @property
    def position(self) -> np.ndarray:
        return self.cam_to_world[:3, 3]

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        return points_world @ self.world_to_cam[:3, :3].T + self.world_to_cam[:3, 3]

    def project(self, points_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N,2) (x right, y down, pixel centres at +0.5) and depth (N,)."""
        pc = self.to_camera(points_world)
        z = pc[:, 2]
        safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
        uv = (pc[:, :2] / safe[:, None]) * np.array([self.K[0, 0], self.K[1, 1]]) + self.K[:2, 2]
        return uv, z


def invert_rigid(T: np.ndarray) -> np.ndarray:
    out = np.eye(4, dtype=T.dtype)
    R = T[:3, :3]
    out[:3, :3] = R.T
    out[:3, 3] = -R.T @ T[:3, 3]
    return out


def intrinsics_from_fov(fov_x_deg: float, width: int, height: int, principal_jitter=(0.0, 0.0)) -> np.ndarray:
    """Square pixels; principal point at the image centre plus a jitter in pixels."""
    fx = 0.5 * width / np.tan(np.deg2rad(fov_x_deg) / 2.0)
    K = np.array([[fx, 0.0, width / 2.0 + principal_jitter[0]],
                  [0.0, fx, height / 2.0 + principal_jitter[1]],
                  [0.0, 0.0, 1.0]])
    return K


def sample_intrinsics(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Phone, webcam and robot-head cameras span roughly 45-75 deg horizontal field of view."""
    fov = rng.uniform(45.0, 75.0)
    jitter = rng.normal(0.0, 0.01 * width, size=2)
    return intrinsics_from_fov(fov, width, height, principal_jitter=jitter)


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """World->optical transform of a camera at `eye` looking at `target` (image y down = -up)."""
    eye = np.asarray(eye, dtype=np.float64)
    z = np.asarray(target, dtype=np.float64) - eye
    z /= np.linalg.norm(z)
    up = np.asarray(up, dtype=np.float64)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-6:  # looking straight along `up`: pick any perpendicular
        x = np.cross(z, np.array([1.0, 0.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])  # rows: camera axes expressed in the world
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ eye
    return T


def framing_distance(K: np.ndarray, width: int, height: int, radius: float, fill: float) -> float:
    """Distance at which a sphere of `radius` spans `fill` of the smaller image side."""
    f = min(K[0, 0], K[1, 1])
    half_px = 0.5 * fill * min(width, height)
    return radius * f / half_px


def orbit_camera(rng: np.random.Generator, target: np.ndarray, radius: float, width: int, height: int,
                 azimuth: float, elevation_deg: float, fill: float) -> Camera:
    """A camera on a sphere around `target` framing a scene of bounding radius `radius`."""
    K = sample_intrinsics(rng, width, height)
    dist = framing_distance(K, width, height, radius, fill)
    el = np.deg2rad(elevation_deg)
    offset = dist * np.array([np.cos(el) * np.cos(azimuth), np.cos(el) * np.sin(azimuth), np.sin(el)])
    return Camera(K=K, world_to_cam=look_at(target + offset, target), width=width, height=height)


def view_pair(rng: np.random.Generator, target: np.ndarray, radius: float, width: int, height: int,
              facing_azimuth: float) -> tuple[Camera, Camera]:
    """Two views with a large baseline: A roughly in front of the person, B roughly behind.

    CrossHOI trains its cross-view generator on the pair of views with the largest viewpoint
    difference (front/back); the back view sees what the person's body hides from the front.
    """
    az_a = facing_azimuth + rng.uniform(-0.8, 0.8)
    az_b = az_a + np.pi + rng.uniform(-0.35, 0.35)
    fill = rng.uniform(0.75, 0.95)
    cam_a = orbit_camera(rng, target, radius, width, height, az_a, rng.uniform(-5.0, 30.0), fill)
    cam_b = orbit_camera(rng, target, radius, width, height, az_b, rng.uniform(-5.0, 30.0), fill)
    return cam_a, cam_b
