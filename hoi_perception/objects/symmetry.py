"""Geometric symmetries of objects in their canonical frame, as rotation lists for pose metrics.

Symmetry strings (rotations are about the canonical origin):
- ``"none"``: only the identity.
- ``"discrete:<n>"``: n-fold rotation about canonical z.
- ``"discrete:<n>+flip"``: the n-fold group about z, each also composed with a 180 deg turn about
  x (a box is ``"discrete:2+flip"``: identity and 180 deg about x, y and z).
- ``"z-continuous"``: any rotation about z (a body of revolution that is not top/bottom symmetric).
- ``"z-continuous+flip"``: revolution plus the 180 deg flip about x (a closed cylinder).
- ``"spherical"``: every rotation (a sphere).

Continuous symmetries are returned discretised (``CONTINUOUS_STEPS`` steps about z; a fixed set of
rotations for ``"spherical"``), which is what a symmetric pose error (min over the list) needs.
"""
from __future__ import annotations

import re

import numpy as np
from scipy.spatial.transform import Rotation

CONTINUOUS_STEPS = 36
SPHERICAL_SAMPLES = 120
_PATTERN = re.compile(r"^(none|spherical|z-continuous(\+flip)?|discrete:(\d+)(\+flip)?)$")


def validate_symmetry(symmetry: str) -> str:
    if not isinstance(symmetry, str) or not _PATTERN.match(symmetry):
        raise ValueError(
            f"unknown symmetry {symmetry!r}; expected 'none', 'spherical', 'z-continuous[+flip]' "
            "or 'discrete:<n>[+flip]'")
    if symmetry.startswith("discrete:") and int(_PATTERN.match(symmetry).group(3)) < 1:
        raise ValueError(f"symmetry order must be >= 1 in {symmetry!r}")
    return symmetry


def _rz(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


_FLIP_X = np.diag([1.0, -1.0, -1.0])


def symmetry_rotations(symmetry: str) -> np.ndarray:
    """(K,3,3) rotations R with R @ mesh == mesh (identity first)."""
    m = _PATTERN.match(validate_symmetry(symmetry))
    if symmetry == "none":
        return np.eye(3)[None]
    if symmetry == "spherical":
        # Fixed seed: the list must be identical in every process.
        rand = Rotation.random(SPHERICAL_SAMPLES - 1, random_state=0).as_matrix()
        return np.concatenate([np.eye(3)[None], rand], axis=0)
    if symmetry.startswith("z-continuous"):
        n, flip = CONTINUOUS_STEPS, symmetry.endswith("+flip")
    else:
        n, flip = int(m.group(3)), m.group(4) is not None
    rots = [_rz(2.0 * np.pi * k / n) for k in range(n)]
    if flip:
        rots += [r @ _FLIP_X for r in rots]
    return np.stack(rots)


def is_continuous(symmetry: str) -> bool:
    return symmetry.startswith("z-continuous") or symmetry == "spherical"
