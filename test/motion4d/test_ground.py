"""The ground comes from the still feet, and the world frame stands on it with z up."""
from __future__ import annotations

import numpy as np

from hoi_perception.motion4d.ground import fit_ground, foot_contacts, world_from_camera


def _tilted_floor_feet(rng):
    """Foot points (T, 6, 3) in a camera frame that looks 20 degrees down at a floor 1.5 m below it:
    four stand still at the corners of a 60 x 40 cm patch, two swing (lifted, moving forward)."""
    a = np.radians(20.0)
    up = np.array([0.0, -np.cos(a), -np.sin(a)])  # camera y is down; looking down tilts the floor's normal
    x = np.array([1.0, 0.0, 0.0])
    fwd = np.cross(up, x)
    base = -1.5 * up  # the floor point under the camera
    offset = -(base @ up)  # 1.5: the camera is 1.5 m above the floor
    t = np.arange(30)
    feet = np.zeros((30, 6, 3))
    for f, (u, v) in enumerate([(0, 0), (0.6, 0), (0, 0.4), (0.6, 0.4)]):
        feet[:, f] = base + fwd * (3.0 + v) + x * u + rng.normal(0, 0.003, (30, 3))
    for f in (4, 5):  # up to 20 cm off the floor, moving forward at 1 m/s
        feet[:, f] = base + fwd * (3.0 + t[:, None] / 25.0) + up * (0.2 * np.abs(np.sin(t / 5.0)) + 0.05)[:, None]
    return feet, up, offset


def test_plane_from_still_feet_and_contacts():
    feet, up, offset = _tilted_floor_feet(np.random.default_rng(0))
    g = fit_ground(feet, 25.0, up + np.array([0.1, 0.0, 0.0]))  # the body's up is only roughly the floor's
    assert "still feet" in g.source
    assert np.degrees(np.arccos(np.clip(g.normal @ up, -1, 1))) < 3.0
    assert abs(g.offset - offset) < 0.03
    still, ground = foot_contacts(feet, 25.0, g)
    assert ground[:, :4].mean() > 0.9 and still[:, 4:].mean() < 0.2


def test_world_frame_is_gravity_aligned_with_x_along_the_view():
    feet, up, _offset = _tilted_floor_feet(np.random.default_rng(1))
    g = fit_ground(feet, 25.0, up)
    pelvis = feet[0, 0] + 0.9 * up
    w = world_from_camera(g, pelvis)
    r = w[:3, :3]
    assert np.allclose(r @ r.T, np.eye(3), atol=1e-9) and np.linalg.det(r) > 0
    assert np.allclose(r @ g.normal, [0, 0, 1], atol=1e-9)
    p = r @ pelvis + w[:3, 3]
    assert abs(p[0]) < 1e-9 and abs(p[1]) < 1e-9 and abs(p[2] - 0.9) < 0.03
    view = r @ np.array([0.0, 0.0, 1.0])
    assert view[0] > 0.9 and abs(view[1]) < 1e-9


def test_too_few_still_points_fall_back_to_the_lowest_feet():
    rng = np.random.default_rng(2)
    up = np.array([0.0, -1.0, 0.0])
    feet = np.cumsum(rng.normal(0, 0.1, (10, 4, 3)), 0) + np.array([0, 1.0, 3.0])  # never still
    g = fit_ground(feet, 25.0, up)
    assert "lowest feet" in g.source and np.allclose(g.normal, up)
