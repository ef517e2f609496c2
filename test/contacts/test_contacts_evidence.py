"""Per-vertex image evidence: inside the mask, the distance to it in crop widths (clipped), and "outside,
far" for points behind the camera or an empty mask."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.contacts.evidence import MAX_DISTANCE, mask_distance, vertex_evidence

INTR = np.array([100.0, 100.0, 50.0, 50.0]) / 100  # a 100-pixel crop


def test_mask_distance():
    m = np.zeros((10, 10), bool)
    m[5, 5] = True
    d = mask_distance(m)
    assert d[5, 5] == 0 and d[5, 8] == pytest.approx(3.0, abs=0.1)
    assert np.isinf(mask_distance(np.zeros((4, 4)))).all()


def test_vertex_evidence():
    mask = np.zeros((100, 100))
    mask[40:60, 40:60] = 1  # around the principal point
    pts = np.array([[0.0, 0.0, 1.0],        # projects to (50, 50): inside
                    [0.15, 0.0, 1.0],       # (65, 50): 6 px from the mask's edge
                    [0.0, 0.0, -1.0],       # behind the camera
                    [5.0, 0.0, 1.0]])       # far off the crop
    ev = vertex_evidence(pts, INTR, mask)
    assert ev[0].tolist() == [1.0, 0.0]
    assert ev[1, 0] == 0.0 and ev[1, 1] == pytest.approx(0.06 / MAX_DISTANCE, abs=0.01)
    assert ev[2].tolist() == [0.0, 1.0] and ev[3].tolist() == [0.0, 1.0]
    assert vertex_evidence(pts, INTR, np.zeros((100, 100)))[:, 1].tolist() == [1.0] * 4
