"""The anny hand of the detected side fitted to a front-end hand: 21 keypoints in 2D and the
detector's world landmarks in 3D, from the rest hand turned onto the landmarks (or a warm start).

The hand's depth comes from its size: the world landmarks' image-plane extent against the
keypoints' (weak perspective), then the 2D fit. Camera optical frame, metres.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoi_perception.body.interface import BodyModel, BodyParams
from hoi_perception.frontend.interface import HandDetection
from hoi_perception.geometry import rigid_fit

from . import terms as T
from .placement import point_at_depth, spread, weak_perspective_depth
from .solver import FitResult, fit

PALM = (0, 5, 9, 13, 17)  # wrist and the finger bases: rigid enough to turn the rest hand onto


@dataclass
class HandFitSettings:
    steps: int = 50
    lr: float = 0.05
    w_keypoints: float = 1.0
    w_world: float = 0.1
    w_change: float = 0.002
    sigma_2d: float = 0.1  # of the hand's size in pixels: close-up hands are off by 5 % of it at the palm
    sigma_world: float = 0.02  # metres
    free: tuple = ("orient", "pose", "transl")


class HandFitter:
    """One fitter per side: ``models`` maps "left"/"right" to the anny hand models."""

    def __init__(self, models: dict[str, BodyModel], settings: HandFitSettings | None = None) -> None:
        for side, m in models.items():
            if m.kind != f"hand_{side}":
                raise ValueError(f"the {side} hand needs a hand_{side} model, got {m.kind}")
        self.models, self.s = models, settings or HandFitSettings()

    def start(self, hand: HandDetection, camera: np.ndarray) -> BodyParams:
        model = self.models[hand.side]
        rest = model.rest_params(1)
        with torch.no_grad():
            joints = model(rest).joints[0].double().numpy()
        rot = np.eye(3)
        if hand.world is not None:
            rot, _ = rigid_fit(joints[list(PALM)], hand.world[list(PALM)])
        # without world landmarks: an adult hand's mean landmark distance from its centre, ~5 cm
        extent_m = 0.05 if hand.world is None else spread(hand.world[:, :2])
        z = weak_perspective_depth(camera, hand.keypoints, extent_m)
        wrist = point_at_depth(camera, hand.keypoints[0], z)
        return BodyParams(shape=rest.shape, pose=rest.pose, global_orient=torch.as_tensor(rot, dtype=torch.float32)[None],
                          transl=torch.as_tensor(wrist, dtype=torch.float32)[None])

    def terms(self, hand: HandDetection) -> list[T.Term]:
        s = self.s
        conf = np.full((1, 21), 1.0)

        def joints(state):
            return state.output.joints

        out = [T.KeypointReprojection(joints, hand.keypoints[None], conf, max(hand.size_px, 8.0), s.w_keypoints,
                                      s.sigma_2d),
               T.PoseChange(None, s.w_change)]
        if hand.world is not None:
            out.append(T.WorldLandmarks(joints, hand.world[None], conf, list(PALM), s.w_world, s.sigma_world))
        return out

    def fit(self, hand: HandDetection, camera: np.ndarray, start: BodyParams | None = None,
            steps_scale: float = 1.0) -> FitResult:
        start = self.start(hand, camera) if start is None else start
        return fit(self.models[hand.side], start, self.terms(hand), camera, steps=max(1, round(self.s.steps * steps_scale)),
                   lr=self.s.lr, free=self.s.free)
