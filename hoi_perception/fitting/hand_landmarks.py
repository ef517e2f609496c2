"""The front end's 21 hand landmarks on the anny hand.

A hand detector's wrist and knuckle landmarks are not anny's joint centres: measured on real
photos, its knuckles sit ~8 mm nearer the wrist than anny's finger bases and its wrist ~4 mm
nearer the fingers. The fingers' joints agree. So the fit compares the detector's landmarks with
points made from anny's joints: the finger joints as they are, and each palm landmark as a fixed
affine combination of the six palm joints (wrist, thumb base, four knuckles), which move rigidly
together in anny - so the combination holds in any pose, for either side (a mirror keeps affine
combinations) and for any hand size.

The weights are calibrated by `fitting/training/hand_landmarks.py` and shipped in
`fitting/data/hand_landmarks.json`; published hand joints stay anny's joints.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch

PALM = (0, 1, 5, 9, 13, 17)  # wrist, thumb base (CMC), index..pinky knuckles (MCP)
DATA_PATH = Path(__file__).resolve().parent / "data" / "hand_landmarks.json"


def regressor_from_palm_weights(weights) -> torch.Tensor:
    """(21, 21) map from anny's hand joints to the detector's landmarks: identity on the fingers,
    ``weights`` (6, 6; rows sum to 1) on the palm rows."""
    w = np.asarray(weights, np.float64)
    if w.shape != (len(PALM), len(PALM)) or not np.allclose(w.sum(1), 1.0, atol=1e-6):
        raise ValueError(f"palm weights must be 6 x 6 affine rows (each summing to 1), got {w.shape}")
    m = np.eye(21)
    for r, k in enumerate(PALM):
        m[k] = 0.0
        m[k, list(PALM)] = w[r]
    return torch.as_tensor(m, dtype=torch.float32)


@functools.lru_cache(maxsize=1)
def default_regressor() -> torch.Tensor:
    """The shipped calibration; identity on the fingers."""
    try:
        data = json.loads(DATA_PATH.read_text())
        return regressor_from_palm_weights(data["palm_weights"])
    except (OSError, KeyError, ValueError) as exc:
        raise RuntimeError(f"the hand landmark calibration {DATA_PATH} is missing or damaged ({exc}); reinstall the "
                           "package or rebuild it: python -m hoi_perception.fitting.training.hand_landmarks") from exc


def landmarks(joints: torch.Tensor, regressor: torch.Tensor | None = None) -> torch.Tensor:
    """(..., 21, 3) anny hand joints -> the detector's 21 landmarks."""
    m = default_regressor() if regressor is None else regressor
    return torch.einsum("kj,...jd->...kd", m.to(joints), joints)
