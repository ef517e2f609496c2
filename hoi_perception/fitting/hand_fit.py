"""The anny hand of the detected side fitted to a front-end hand: 21 landmarks in 2D and the
detector's world landmarks in 3D.

Start: the rest hand turned onto the world landmarks' palm (Kabsch), each finger bone swung onto
the world landmarks' direction, at the weak-perspective depth (the landmarks' image-plane extent
against the keypoints'), then moved rigidly so that it reprojects best onto the keypoints
(perspective-n-point). The fit then bends the fingers and settles the placement. The model's
points compared with the landmarks are the detector's landmarks on anny (`hand_landmarks`).
Camera optical frame, metres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoi_perception.body.interface import BodyModel, BodyParams
from hoi_perception.body.joints import HAND_JOINTS, HAND_PARENTS, HAND_POSE_JOINTS, HAND_TIPS
from hoi_perception.frontend.interface import HandDetection
from hoi_perception.geometry import matrix_to_axis_angle, rigid_fit

from . import terms as T
from .hand_landmarks import PALM, default_regressor, landmarks
from .placement import perspective_placement, point_at_depth, spread, swing_onto, weak_perspective_depth
from .solver import FitResult, fit


@dataclass
class HandFitSettings:
    steps: int = 100
    lr: float = 0.05
    w_keypoints: float = 1.0
    w_world: float = 0.1
    w_change: float = 0.002
    sigma_2d: float = 0.1  # of the hand's size in pixels: close-up hands are off by 5 % of it at the palm
    sigma_world: float = 0.02  # metres
    free: tuple = ("orient", "pose", "transl")


class HandFitter:
    """One fitter per side: ``models`` maps "left"/"right" to the anny hand models; ``regressor``
    (21 x 21) makes the detector's landmarks from anny's joints (default: the shipped calibration;
    the identity compares joints with landmarks directly)."""

    def __init__(self, models: dict[str, BodyModel], settings: HandFitSettings | None = None,
                 regressor: torch.Tensor | None = None) -> None:
        for side, m in models.items():
            if m.kind != f"hand_{side}":
                raise ValueError(f"the {side} hand needs a hand_{side} model, got {m.kind}")
        self.models, self.s = models, settings or HandFitSettings()
        self.regressor = default_regressor() if regressor is None else regressor

    def landmarks(self, joints: torch.Tensor) -> torch.Tensor:
        return landmarks(joints, self.regressor)

    def start(self, hand: HandDetection, camera: np.ndarray) -> BodyParams:
        model = self.models[hand.side]
        rest = model.rest_params(1)
        with torch.no_grad():
            joints = model(rest).joints[0].double().numpy()
        rot, pose = np.eye(3), rest.pose
        if hand.world is not None:
            rot, _ = rigid_fit(joints[list(PALM)], hand.world[list(PALM)])
            pose = self._fingers_from_landmarks(hand.world, joints, rot, rest.pose)
        # without world landmarks: an adult hand's mean landmark distance from its centre, ~5 cm
        extent_m = 0.05 if hand.world is None else spread(hand.world[:, :2])
        z = weak_perspective_depth(camera, hand.keypoints, extent_m)
        wrist = point_at_depth(camera, hand.keypoints[0], z)
        start = BodyParams(shape=rest.shape, pose=pose, global_orient=torch.as_tensor(rot, dtype=torch.float32)[None],
                           transl=torch.as_tensor(wrist, dtype=torch.float32)[None])
        with torch.no_grad():
            points = self.landmarks(model(start).joints)[0].double().numpy()
        moved = perspective_placement(points, wrist, hand.keypoints, camera)
        if moved is None:
            return start
        turn, wrist = moved
        return BodyParams(shape=rest.shape, pose=pose, global_orient=torch.as_tensor(turn @ rot, dtype=torch.float32)[None],
                          transl=torch.as_tensor(wrist, dtype=torch.float32)[None])

    @staticmethod
    def _fingers_from_landmarks(world: np.ndarray, rest_joints: np.ndarray, root: np.ndarray,
                                rest_pose: torch.Tensor) -> torch.Tensor:
        """Each finger bone of the rest hand swung onto the world landmarks' direction (no twist)."""
        targets = {k: (k + 1, world[k + 1] - world[k]) for k in range(1, 21) if k not in HAND_TIPS}
        local = swing_onto(HAND_PARENTS, rest_joints, root, targets)
        pose = rest_pose.clone()
        for i, name in enumerate(HAND_POSE_JOINTS):
            rot = torch.as_tensor(local[HAND_JOINTS.index(name)], dtype=torch.float64)
            pose[0, i] = matrix_to_axis_angle(rot).to(pose.dtype)
        return pose

    def terms(self, hand: HandDetection, weights=None) -> list[T.Term]:
        """``weights``: per landmark (21,), default all 1."""
        s = self.s
        conf = np.ones((1, 21)) if weights is None else np.asarray(weights, np.float64).reshape(1, 21)

        def points(state):
            return self.landmarks(state.output.joints)

        out = [T.KeypointReprojection(points, hand.keypoints[None], conf, max(hand.size_px, 8.0), s.w_keypoints,
                                      s.sigma_2d),
               T.PoseChange(None, s.w_change)]
        if hand.world is not None:
            out.append(T.WorldLandmarks(points, hand.world[None], conf, list(PALM), s.w_world, s.sigma_world))
        return out

    def fit(self, hand: HandDetection, camera: np.ndarray, start: BodyParams | None = None,
            steps_scale: float = 1.0, weights=None) -> FitResult:
        start = self.start(hand, camera) if start is None else start
        return fit(self.models[hand.side], start, self.terms(hand, weights), camera,
                   steps=max(1, round(self.s.steps * steps_scale)), lr=self.s.lr, free=self.s.free)
