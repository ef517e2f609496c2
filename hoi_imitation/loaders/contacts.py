"""Foot-ground contact labels from kinematics (for sources without contact annotations)."""
from __future__ import annotations

import numpy as np

from ..skeleton import INDEX

FOOT_CONTACT_NAMES = ["left_foot:ground", "right_foot:ground"]


def foot_contacts(pos: np.ndarray, fps: float, height: float = 0.06, speed: float = 0.3):
    """A foot is on the ground when its lowest joint (ankle or ball) is within ``height`` of the
    clip's lowest foot level and moves slower than ``speed`` m/s."""
    ground = np.percentile(pos[:, [INDEX["left_foot"], INDEX["right_foot"], INDEX["left_ankle"], INDEX["right_ankle"]], 2], 1)
    out = np.zeros((pos.shape[0], 2), dtype=np.float32)
    for k, side in enumerate(("left", "right")):
        ids = [INDEX[f"{side}_ankle"], INDEX[f"{side}_foot"]]
        z = pos[:, ids, 2].min(axis=1)
        v = np.linalg.norm(np.gradient(pos[:, ids[1], :2], axis=0), axis=-1) * fps
        out[:, k] = ((z - ground) < height) & (v < speed)
    return FOOT_CONTACT_NAMES, out
