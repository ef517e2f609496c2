"""layout: the body frame follows the body (not the camera), viewports look at the pelvis, and a
point's layout is its position on the viewport's image plane."""
from __future__ import annotations

import math

import torch

from hoi_perception.body.joints import BODY_JOINTS
from hoi_perception.geometry import axis_angle_to_matrix
from hoi_perception.spatialprior import layout


def standing_joints() -> torch.Tensor:
    torch.manual_seed(0)
    j = torch.randn(len(BODY_JOINTS), 3) * 0.2
    j[layout.PELVIS] = torch.tensor([0.0, 0.0, 1.0])
    j[layout.LEFT_HIP] = torch.tensor([0.1, 0.0, 0.95])
    j[layout.RIGHT_HIP] = torch.tensor([-0.1, 0.0, 0.95])
    j[layout.NECK] = torch.tensor([0.0, 0.05, 1.5])
    return j


def test_body_frame_is_orthonormal_and_moves_with_the_body():
    j = standing_joints()
    origin, rot = layout.body_frame(j)
    assert torch.allclose(rot.T @ rot, torch.eye(3), atol=1e-5) and torch.det(rot) > 0
    points = torch.randn(5, 3)
    local = layout.to_body_frame(points, origin, rot)
    # the same scene seen by a camera turned and moved elsewhere: the same body-frame coordinates
    r = axis_angle_to_matrix(torch.tensor([0.3, -1.2, 0.5]))
    t = torch.tensor([0.4, -0.2, 3.0])
    o2, r2 = layout.body_frame(j @ r.T + t)
    assert torch.allclose(layout.to_body_frame(points @ r.T + t, o2, r2), local, atol=1e-5)


def test_viewports_look_at_the_pelvis_level():
    cams = layout.ring_viewports(8)
    assert cams.shape == (8, 3) and torch.allclose(cams.norm(dim=1), torch.full((8,), layout.SCORING_RADIUS))
    uv = layout.project(torch.zeros(1, 1, 3).expand(8, 1, 3), cams)
    assert torch.allclose(uv, torch.zeros(8, 1, 2), atol=1e-6)  # the pelvis is the image centre
    axes = layout.look_at_axes(cams)
    assert torch.allclose(axes[:, 0, 2], torch.zeros(8), atol=1e-6)  # image x stays level


def test_projection_is_the_image_plane_position():
    cam = torch.tensor([[4.0, 0.0, 0.0]])  # on the body's left, looking at the pelvis along -x
    p = torch.tensor([[[0.0, 0.5, 0.0], [0.0, 0.0, 1.0]]])  # 0.5 m forward; 1 m up
    uv = layout.project(p, cam)[0]
    assert math.isclose(float(uv[0, 0]), 0.5 / 4.0, rel_tol=1e-5)  # forward is to the right seen from the left
    assert math.isclose(float(uv[1, 1]), -1.0 / 4.0, rel_tol=1e-5)  # up is image -y


def test_random_viewports_stay_in_range():
    cams = layout.random_viewports((1000,), torch.Generator().manual_seed(0))
    r = cams.norm(dim=1)
    assert r.min() >= layout.RADIUS_RANGE[0] - 1e-4 and r.max() <= layout.RADIUS_RANGE[1] + 1e-4
    el = torch.rad2deg(torch.asin(cams[:, 2] / r))
    assert el.min() >= layout.ELEVATION_RANGE_DEG[0] - 1e-3 and el.max() <= layout.ELEVATION_RANGE_DEG[1] + 1e-3
