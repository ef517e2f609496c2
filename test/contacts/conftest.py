"""A small closed mesh for the canvas and network tests (anny's 13,718 vertices are not needed there)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest


def _box_mesh(n: int = 6):
    """A closed box surface of (n+1)^2 vertices per face, triangulated (metres)."""
    verts, faces = [], []
    g = np.linspace(-0.5, 0.5, n + 1)
    for axis, side in itertools.product(range(3), (-0.5, 0.5)):
        base = len(verts)
        others = [i for i in range(3) if i != axis]
        for a, b in itertools.product(g, g):
            p = [0.0, 0.0, 0.0]
            p[axis], p[others[0]], p[others[1]] = side, a, b
            verts.append(p)
        for i, j in itertools.product(range(n), range(n)):
            v = base + i * (n + 1) + j
            faces += [[v, v + 1, v + n + 2], [v, v + n + 2, v + n + 1]]
    v, idx = np.unique(np.round(np.array(verts), 9), axis=0, return_inverse=True)
    return v, idx.ravel()[np.array(faces)]


@pytest.fixture
def box_mesh():
    return _box_mesh
