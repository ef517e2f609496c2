"""Hand mesh from the predicted hand joints: the project's anny hand fitted to the 21 joints.

The network's hand branch predicts joints (camera frame); the mesh comes from the same body-model
family the data engine posed the hands with. The fit is the usual two steps: the wrist
orientation and position by a rigid (Kabsch) fit of the rest hand's palm (wrist + five finger
bases) to the predicted palm, then a few Adam steps on finger rotations, wrist orientation and
position against all 21 joints with a small prior pulling the fingers toward rest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoi_perception.body import load_body_model
from hoi_perception.body.interface import BodyParams
from hoi_perception.geometry import matrix_to_rot6d, rigid_fit

PALM = (0, 1, 5, 9, 13, 17)  # wrist, thumb CMC, index/middle/ring/pinky bases (HAND_JOINTS)


@dataclass
class HandMesh:
    vertices: np.ndarray  # (V, 3) camera frame, metres
    faces: np.ndarray  # (F, 3)
    joints: np.ndarray  # (21, 3) the fitted model's joints
    error_m: float  # mean distance of the fitted joints to the predicted ones


class HandMeshFitter:
    def __init__(self, side: str = "right", iters: int = 15, prior: float = 1e-3):
        if side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {side!r}")
        self.model = load_body_model("anny", kind=f"hand_{side}")
        self.iters, self.prior = int(iters), float(prior)
        with torch.no_grad():
            rest = self.model(self.model.rest_params(1))
        self.rest_joints = rest.joints[0].double().numpy()  # wrist at the origin
        self.faces = rest.faces.numpy()

    def fit(self, joints: np.ndarray) -> HandMesh:
        """joints (21, 3) in the camera frame (metres) -> the fitted hand mesh there."""
        target = np.asarray(joints, np.float64)
        if target.shape != (21, 3) or not np.isfinite(target).all():
            raise ValueError(f"hand joints must be a finite (21, 3) array, got shape {target.shape}")
        r0, t0 = rigid_fit(self.rest_joints[list(PALM)], target[list(PALM)])
        p = self.model.rest_params(1)
        pose = torch.zeros_like(p.pose, requires_grad=True)
        orient = matrix_to_rot6d(torch.as_tensor(r0, dtype=torch.float32)[None]).clone().requires_grad_(True)
        transl = torch.as_tensor(r0 @ self.rest_joints[0] + t0, dtype=torch.float32)[None].clone().requires_grad_(True)
        tgt = torch.as_tensor(target, dtype=torch.float32)[None]
        # rotations in radians, translation in metres: a step of 0.05 rad, 2 mm
        opt = torch.optim.Adam([{"params": [pose, orient], "lr": 0.05}, {"params": [transl], "lr": 0.002}])
        for _ in range(self.iters):
            opt.zero_grad()
            out = self.model(BodyParams(p.shape, pose, orient, transl), validate=False)
            loss = (out.joints - tgt).norm(dim=-1).mean() + self.prior * pose.pow(2).sum()
            loss.backward()
            opt.step()
        with torch.no_grad():
            out = self.model(BodyParams(p.shape, pose, orient, transl), validate=False)
        j = out.joints[0].double().numpy()
        return HandMesh(out.vertices[0].numpy(), self.faces, j.astype(np.float32),
                        float(np.linalg.norm(j - target, axis=-1).mean()))
