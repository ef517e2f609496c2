"""Start placement helpers: swinging a skeleton onto directions, and the rigid perspective fit."""
from __future__ import annotations

import numpy as np

from hoi_perception.body.joints import HAND_PARENTS
from hoi_perception.fitting.placement import perspective_placement, swing_onto
from hoi_perception.geometry import rotation_between

K = np.array([[800.0, 0, 320], [0, 800.0, 240], [0, 0, 1]])


def test_swing_onto_points_every_segment_along_its_target():
    rng = np.random.default_rng(0)
    rest = rng.normal(size=(21, 3)) * 0.03
    root = rotation_between(np.array([1.0, 0, 0]), np.array([0.0, 1, 1]))
    targets = {j: (j + 1, rng.normal(size=3)) for j in (1, 2, 3, 5, 6, 7)}
    local = swing_onto(HAND_PARENTS, rest, root, targets)
    glob = {0: root}
    for j in range(1, 21):
        glob[j] = glob[HAND_PARENTS[j]] @ local[j]
    for j, (child, d) in targets.items():
        seg = glob[j] @ (rest[child] - rest[j])
        assert np.allclose(seg / np.linalg.norm(seg), d / np.linalg.norm(d), atol=1e-9)
    assert all(np.allclose(local[j], np.eye(3)) for j in (9, 10, 13))  # no target: rest rotation


def test_perspective_placement_recovers_a_rigid_motion():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(12, 3)) * 0.1 + [0.0, 0.0, 2.0]
    root = points[0].copy()
    turn = rotation_between(np.array([0.0, 0, 1]), np.array([0.1, 0.05, 1.0]))
    new_root = np.array([0.05, -0.02, 2.2])
    truth = (points - root) @ turn.T + new_root
    pixels = truth[:, :2] / truth[:, 2:] * 800.0 + [320, 240]
    rot, pos = perspective_placement(points, root, pixels, K)
    assert np.allclose(pos, new_root, atol=1e-4) and np.allclose(rot, turn, atol=1e-4)
    assert perspective_placement(points[:4], root, pixels[:4], K) is None  # too few points
    assert perspective_placement(points, root, np.full_like(pixels, np.nan), K) is None
