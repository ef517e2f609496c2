"""The anny hand fitted to a detector's hand: the landmark calibration, the start, the fit."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hoi_perception.body.anny_model import AnnyBodyModel
from hoi_perception.body.interface import BodyParams
from hoi_perception.fitting.hand_fit import HandFitSettings, HandFitter
from hoi_perception.fitting.hand_landmarks import PALM, default_regressor, landmarks, regressor_from_palm_weights
from hoi_perception.frontend.interface import HandDetection, box_of
from hoi_perception.geometry import axis_angle_to_matrix
from hoi_perception.raster import pinhole_project

K = np.array([[900.0, 0, 640], [0, 900.0, 360], [0, 0, 1]])


@pytest.fixture(scope="module")
def hands():
    return {s: AnnyBodyModel(f"hand_{s}") for s in ("left", "right")}


def _posed(model, seed: int = 3) -> BodyParams:
    g = torch.Generator().manual_seed(seed)
    rest = model.rest_params(1)
    bend = torch.zeros_like(rest.pose)
    bend[..., 2] = 0.5 * torch.rand(rest.pose.shape[:2], generator=g)  # fingers curled part way
    return BodyParams(shape=rest.shape, pose=bend, global_orient=torch.tensor([[0.3, -2.6, 0.4]]),
                      transl=torch.tensor([[0.02, -0.01, 0.45]]))


def _detection(model, params, side: str) -> HandDetection:
    with torch.no_grad():
        points = landmarks(model(params).joints)[0].double().numpy()
    uv = pinhole_project(points, K, 1e-3)
    return HandDetection(keypoints=uv, world=points - points[0], side=side, score=0.9, box=box_of(uv))


def test_the_calibration_moves_only_the_palm_landmarks():
    m = default_regressor()
    fingers = [k for k in range(21) if k not in PALM]
    assert torch.equal(m[fingers][:, fingers], torch.eye(len(fingers)))
    assert torch.allclose(m.sum(1), torch.ones(21), atol=1e-5)
    assert not torch.allclose(m[list(PALM)][:, list(PALM)], torch.eye(len(PALM)))  # a calibration, not the identity
    with pytest.raises(ValueError, match="affine"):
        regressor_from_palm_weights(np.full((6, 6), 0.5))


def test_palm_landmarks_move_rigidly_with_the_hand_on_both_sides(hands):
    for side, model in hands.items():
        params = _posed(model)
        with torch.no_grad():
            out = model(params).joints
        a = landmarks(out)[0]
        turn = axis_angle_to_matrix(torch.tensor([0.2, 0.5, -0.1]))
        moved = landmarks(out @ turn.T + torch.tensor([0.1, 0.0, 0.2]))[0]
        assert torch.allclose(moved, a @ turn.T + torch.tensor([0.1, 0.0, 0.2]), atol=1e-5)
        # the landmarks stay within ~3 cm of the palm joints they stand for
        gap = (a[list(PALM)] - out[0, list(PALM)]).norm(dim=-1)
        assert float(gap.max()) < 0.03, side


def test_fit_recovers_a_posed_hand_from_its_landmarks(hands):
    for side, model in hands.items():
        params = _posed(model)
        det = _detection(model, params, side)
        fitter = HandFitter(hands, HandFitSettings(steps=60))
        start = fitter.start(det, K)
        res = fitter.fit(det, K, start=start)
        uv_start = pinhole_project(landmarks(model(start).joints)[0].detach().numpy(), K, 1e-3)
        uv = pinhole_project(fitter.landmarks(res.output.joints)[0].numpy(), K, 1e-3)
        start_gap = np.linalg.norm(uv_start - det.keypoints, axis=1).mean()
        gap = np.linalg.norm(uv - det.keypoints, axis=1).mean()
        assert gap < 3.0 and gap < start_gap, (side, gap, start_gap)
        with torch.no_grad():
            truth = model(params).joints[0]
        assert float((res.output.joints[0] - truth).norm(dim=-1).mean()) < 0.02, side  # within 2 cm in 3D


def test_without_world_landmarks_the_fit_still_lands_on_the_keypoints(hands):
    model = hands["right"]
    det = dataclasses.replace(_detection(model, _posed(model), "right"), world=None)
    res = HandFitter(hands, HandFitSettings(steps=80)).fit(det, K)
    uv = pinhole_project(landmarks(res.output.joints)[0].numpy(), K, 1e-3)
    assert np.linalg.norm(uv - det.keypoints, axis=1).mean() < 10.0
