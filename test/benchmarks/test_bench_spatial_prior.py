"""bench spatial_prior: variants parse as documented, rotation errors respect symmetries, the network's
relative depth is a ratio of distances, and the 12 photos are read in one place."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.benchmarks.spatial_prior import _rotation_error_deg, _variant, relative_depth
from hoi_perception.geometry import axis_angle_to_matrix_np
from hoi_perception.paths import shared_data_dir


def test_variants_parse():
    v = _variant("8:2:0.1:-:5")
    assert (v["viewports"], v["weight"], v["depth_sigma"], v["relative"], v["contact_weight"]) == (8, 2.0, 0.1, False, 5.0)
    assert _variant("4:1")["depth_sigma"] == 0.1 and _variant("4:1")["contact_weight"] == 0.0
    assert _variant("8:1:0.2:r")["relative"] and _variant("8:1:0.2:r")["name"].endswith("_rel")


def test_rotation_error_takes_the_closest_symmetry():
    half_turn = axis_angle_to_matrix_np(np.array([0.0, 0.0, np.pi]))
    assert _rotation_error_deg(half_turn, np.eye(3), np.stack([np.eye(3)])) == pytest.approx(180.0, abs=1e-3)
    assert _rotation_error_deg(half_turn, np.eye(3), np.stack([np.eye(3), half_turn])) == pytest.approx(0.0, abs=1e-3)


def test_relative_depth_is_the_pelvis_distance_ratio():
    net = np.zeros((22, 3))
    net[0] = [0.0, 0.0, 2.0]
    assert relative_depth(net * 1.5, net) == pytest.approx(1.5)


def test_real_photos_are_the_twelve():
    if not (shared_data_dir() / "images" / "hoi_noncommercial").is_dir():
        pytest.skip("no shared photos")
    from hoi_perception.benchmarks.real import real_photos

    photos = list(real_photos())
    assert len(photos) == 12
    for _, bgr, person, obj, k, _ in photos:
        assert person.shape == obj.shape == bgr.shape[:2] and obj.any() and k.width == bgr.shape[1]
