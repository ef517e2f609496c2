"""Each fitting term on its own: zero (or lowest) at agreement, growing with disagreement, robust where
it says so; the solver reports every term and refuses duplicate names."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hoi_perception.body.interface import BodyOutput, BodyParams
from hoi_perception.fitting import terms as T
from hoi_perception.fitting.solver import fit

K = torch.tensor([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])


def _state(points: torch.Tensor, shape=None, delta=None) -> T.FitState:
    b = points.shape[0]
    params = BodyParams(shape=torch.full((b, 6), 0.5) if shape is None else shape, pose=torch.eye(3).repeat(b, 2, 1, 1),
                        global_orient=torch.eye(3).repeat(b, 1, 1), transl=torch.zeros(b, 3))
    out = BodyOutput(vertices=points, joints=points, faces=torch.zeros(0, 3, dtype=torch.long), joint_names=(),
                     keypoints=points)
    return T.FitState(params, out, K, torch.zeros(b, 2, 3) if delta is None else delta)


def _project(p: torch.Tensor) -> torch.Tensor:
    return (p[..., :2] / p[..., 2:]) * 500 + torch.tensor([320.0, 240.0])


def test_keypoint_reprojection_is_zero_at_agreement_and_saturates_for_outliers():
    pts = torch.tensor([[[0.0, 0.0, 2.0], [0.1, -0.2, 2.0], [-0.1, 0.3, 2.5]]])
    target = _project(pts)
    term = T.KeypointReprojection(lambda s: s.output.keypoints, target, np.ones((1, 3)), 100.0, sigma=0.1)
    assert float(term(_state(pts))) == pytest.approx(0.0, abs=1e-9)
    near, far, very_far = (term(_state(pts + torch.tensor([d, 0.0, 0.0]))) for d in (0.01, 0.1, 10.0))
    assert 0 < float(near) < float(far) < float(very_far) <= 1.0
    # a point the detector did not see (confidence 0) does not count
    off = pts.clone()
    off[0, 2, 0] += 1.0
    blind = T.KeypointReprojection(lambda s: s.output.keypoints, target, np.array([[1.0, 1.0, 0.0]]), 100.0)
    assert float(blind(_state(off))) == pytest.approx(0.0, abs=1e-9)


def test_world_landmarks_ignore_translation_but_not_shape():
    pts = torch.tensor([[[0.0, 0.0, 2.0], [0.2, 0.0, 2.0], [0.0, 0.5, 2.0]]])
    world = pts[0].numpy() - pts[0, :2].numpy().mean(0)
    term = T.WorldLandmarks(lambda s: s.output.joints, world[None], np.ones((1, 3)), [0, 1])
    assert float(term(_state(pts + torch.tensor([1.0, 2.0, 3.0])))) == pytest.approx(0.0, abs=1e-9)
    bent = pts.clone()
    bent[0, 2] = torch.tensor([0.0, -0.5, 2.0])
    assert float(term(_state(bent))) > 0.3  # one of three points saturated


def test_silhouette_prefers_the_body_on_the_mask_and_covering_it():
    mask = np.zeros((480, 640), bool)
    mask[140:340, 270:370] = True  # a 100 x 200 px person
    # a grid of points filling the mask at 2 m depth
    u, v = np.meshgrid(np.linspace(272, 368, 10), np.linspace(142, 338, 20))
    on = torch.tensor(np.stack([(u - 320) / 500 * 2, (v - 240) / 500 * 2, np.full_like(u, 2.0)], -1).reshape(1, -1, 3),
                      dtype=torch.float32)
    term = T.Silhouette(np.arange(on.shape[1]), mask, scale_px=200.0, tolerance=0.03)  # the grid is 10 px apart
    inside = float(term(_state(on)))
    shifted = float(term(_state(on + torch.tensor([0.3, 0.0, 0.0]))))
    shrunk = float(term(_state(torch.cat([on[:, :, :2] * 0.3, on[:, :, 2:]], -1))))
    assert inside < 0.01 and shifted > inside + 0.05 and shrunk > inside + 0.05
    # what may hide the person (an object in front) costs nothing to land on
    allowed = np.zeros_like(mask)
    allowed[140:340, 370:640] = True
    hidden = T.Silhouette(np.arange(on.shape[1]), mask, 200.0, allowed=allowed, tolerance=0.03)
    assert float(hidden(_state(on + torch.tensor([0.1, 0.0, 0.0])))) < float(term(_state(on + torch.tensor([0.1, 0.0, 0.0]))))



def test_silhouette_covers_only_the_pixels_given():
    mask = np.zeros((480, 640), bool)
    mask[140:340, 270:370] = True  # the person
    mask[140:340, 370:470] = True  # a neighbour merged into the detector's mask
    u, v = np.meshgrid(np.linspace(272, 368, 10), np.linspace(142, 338, 20))
    on = torch.tensor(np.stack([(u - 320) / 500 * 2, (v - 240) / 500 * 2, np.full_like(u, 2.0)], -1).reshape(1, -1, 3),
                      dtype=torch.float32)
    index = np.arange(on.shape[1])
    every = T.Silhouette(index, mask, scale_px=200.0, tolerance=0.03)
    cover = np.zeros_like(mask)
    cover[:, :372] = True
    own = T.Silhouette(index, mask, scale_px=200.0, tolerance=0.03, cover=cover)
    assert float(own(_state(on))) < 0.01 < float(every(_state(on)))  # the neighbour's pixels no longer pull

def test_shape_prior_pose_change_and_smoothness():
    s = T.ShapePrior(torch.full((1, 6), 0.5), sigma=0.1)
    assert float(s(_state(torch.zeros(1, 1, 3)))) == 0.0
    assert float(s(_state(torch.zeros(1, 1, 3), shape=torch.full((1, 6), 0.6)))) == pytest.approx(1.0, rel=1e-4)
    change = T.PoseChange([1])
    delta = torch.tensor([[[0.5, 0.0, 0.0], [0.0, 0.2, 0.0]]])
    assert float(change(_state(torch.zeros(1, 1, 3), delta=delta))) == pytest.approx(0.04, rel=1e-5)
    line = torch.arange(5.0)[:, None, None] * torch.tensor([1.0, 0.0, 0.0])  # constant velocity
    assert float(T.TemporalSmoothness()(_state(line)).abs().max()) == 0.0
    jerk = line.clone()
    jerk[2, 0, 0] += 1.0
    assert float(T.TemporalSmoothness()(_state(jerk))[2]) > 1.0


def test_interpenetration_counts_only_points_inside_the_object():
    from hoi_perception.objects.fields import SignedDistanceGrid

    r, pitch = 21, 0.01
    origin = np.full(3, -0.105)
    c = (np.arange(r) + 0.5) * pitch + origin[0]
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    sdf = SignedDistanceGrid(np.sqrt(x * x + y * y + z * z).astype(np.float32) - 0.05, origin, pitch)  # 5 cm ball
    pose = torch.eye(4)
    pose[:3, 3] = torch.tensor([0.0, 0.0, 1.0])
    term = T.Interpenetration([0, 1], sdf, pose)
    outside = torch.tensor([[[0.0, 0.0, 0.9], [0.08, 0.0, 1.0]]])
    inside = torch.tensor([[[0.0, 0.0, 1.0], [0.08, 0.0, 1.0]]])  # the first at the centre: 5 cm deep
    assert float(term(_state(outside))) == pytest.approx(0.0, abs=1e-6)
    assert float(term(_state(inside))) == pytest.approx(0.025, abs=0.003)


def test_solver_reports_each_term_and_refuses_duplicate_names(hand_model):
    start = hand_model.rest_params(1)
    target = torch.zeros(1, 3)
    class Pull(T.Term):
        name = "pull"

        def __call__(self, state):
            return ((state.params.transl - target) ** 2).sum(-1)

    moved = BodyParams(start.shape, start.pose, start.global_orient, torch.tensor([[0.1, 0.0, 0.0]]))
    res = fit(hand_model, moved, [Pull()], K, steps=150, lr=0.05, free=("transl",), transl_lr=0.01)
    assert set(res.terms) == {"pull"} and res.terms["pull"][0] < 1e-4 < res.history[0]
    with pytest.raises(ValueError, match="unique"):
        fit(hand_model, moved, [Pull(), Pull()], K, steps=1)
    with pytest.raises(ValueError, match="unknown free"):
        fit(hand_model, moved, [Pull()], K, steps=1, free=("scale",))


def _object_scene():
    """A 6 cm cube's surface points (jittered) 1 m in front of the camera and a square mask beside them."""
    from hoi_perception.fullbody.silhouette_fit import _Target

    k = np.array([[300.0, 0, 64], [0, 300.0, 64], [0, 0, 1]])
    g = np.linspace(-0.03, 0.03, 7)
    face = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    points = np.concatenate([np.insert(face, axis, s, 1) for axis in range(3) for s in (-0.03, 0.03)]) + [0, 0, 1.0]
    points += np.random.default_rng(0).normal(scale=1e-3, size=points.shape)  # no ties between nearest points
    mask = np.zeros((128, 128), bool)
    mask[60:82, 64:86] = True  # the cube seen ~12 px right and down of where it is
    target = _Target(mask, np.zeros_like(mask), points[:10] + [0, 0, 5.0], k)
    return k, points, target


def test_object_silhouette_gradient_is_the_loss_slope_at_the_start():
    from hoi_perception.fitting.object_pose import ObjectStart, move_object

    k, points, target = _object_scene()
    obj = ObjectStart(points)
    centre = torch.as_tensor(obj.centre)
    params = torch.zeros(1, 6, dtype=torch.float64, requires_grad=True)
    state = T.FitState(None, None, torch.as_tensor(k), None, params, centre, torch.as_tensor(points))
    assert torch.allclose(state.object_points[0], torch.as_tensor(points))  # not moved at zero
    T.ObjectSilhouette(target)(state).sum().backward()

    def loss(p):
        return target.loss(move_object(torch.as_tensor(points), centre, torch.as_tensor(p)[None])[0].numpy())

    eps = 1e-5
    for i in range(6):
        d = np.zeros(6)
        d[i] = eps
        slope = (loss(d) - loss(-d)) / (2 * eps)
        assert params.grad[0, i].item() == pytest.approx(slope, rel=0.05, abs=1e-3), i


def test_the_object_moves_alone_onto_its_mask_and_never_ends_worse():
    from hoi_perception.fitting.object_pose import ObjectStart

    k, points, target = _object_scene()
    terms = [T.ObjectSilhouette(target), T.ObjectRotationChange(0.5)]
    res = fit(None, None, terms, k, steps=40, free=("object",), obj=ObjectStart(points), object_lr=0.04, decay=True,
              keep_best=True)
    moved = points @ res.object_transform[0, :3, :3].T + res.object_transform[0, :3, 3]
    assert target.loss(moved) < 0.5 * target.loss(points)
    assert res.object_params[0, 0] > 0 and res.object_params[0, 1] > 0  # right and down, towards the mask
    assert res.params is None and res.output is None and set(res.terms) == {"object_silhouette", "object_rotation_change"}
    with pytest.raises(ValueError, match="only an object"):
        fit(None, None, terms, k, free=("object", "pose"), obj=ObjectStart(points))
