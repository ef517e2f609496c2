"""bench contacts: per-scene rows follow the DAMON definitions per part, and the summary pairs the contact
model with the head scene by scene."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.benchmarks.contacts import scene_row, summarise
from hoi_perception.metrics import mesh_edge_graph


def chain(n: int = 6):
    """n vertices on a line 1 cm apart, as a strip of triangles' edges."""
    v = np.column_stack([np.arange(n) * 0.01, np.zeros(n), np.zeros(n)])
    f = np.array([[i, i + 1, i + 1] for i in range(n - 1)])
    return v, f


def test_scene_row_scores_parts_and_geodesic_error():
    v, f = chain()
    graph = mesh_edge_graph(v, f)
    parts = np.array([0, 0, 0, 1, 1, 1])
    gt = np.array([1, 1, 0, 0, 0, 0], bool)
    prob = np.array([0.9, 0.9, 0.0, 0.0, 0.0, 0.8])  # one false positive 4 cm along the chain
    f1, p, r, geo, ap, part0, part1 = scene_row(prob, gt, 0.5, graph, parts, 2)
    assert (p, r) == pytest.approx((2 / 3, 1.0)) and f1 == pytest.approx(0.8)
    assert geo == pytest.approx(4.0)
    assert part0 == pytest.approx(1.0) and np.isnan(part1)  # part 1 has no true contact: not scored


def test_summary_pairs_scenes():
    rng = np.random.default_rng(0)
    head = rng.uniform(0.5, 0.9, (5, 5 + 2))
    model = head + 0.05
    res = {"rows": {"head": head, "model": model}, "object": {"head": head[:, 0], "model": model[:, 0]},
           "seconds": [0.01, 0.02], "scenes": 6}
    s = summarise(res, ("a", "b"))
    assert s["model_minus_head"]["f1"]["mean"] == pytest.approx(0.05) and s["model_minus_head"]["f1"]["sem"] < 1e-9
    assert s["scenes_with_contact"] == 5 and s["ms_per_frame"] == pytest.approx(15.0)
