"""The spatial prior's fitting terms: the term and the ray-scale solve on engine scenes, the contact
candidates from masks, and every bad input switched off with a reason (never a NaN in a fit)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hoi_perception.fitting.object_pose import ObjectStart
from hoi_perception.fitting.prior_terms import PriorEvidence, SpatialPriorTerm, contact_candidates, solve_ray_scale
from hoi_perception.fitting.solver import fit
from hoi_perception.paths import models_dir
from hoi_perception.spatialprior.prior import SpatialPrior

SHIPPED = models_dir() / "spatialprior"
pytestmark = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="no shipped spatial prior")
K = np.array([[600.0, 0, 320], [0, 600.0, 240], [0, 0, 1]])


@pytest.fixture(scope="module")
def prior():
    return SpatialPrior.load(SHIPPED)


@pytest.fixture(scope="module")
def held_scene():
    """A held-out engine scene of a held object, in a camera 3 m in front of the person."""
    from hoi_perception.synth.engine import _object_source, _poser_factory
    from hoi_perception.synth.scenes import SceneSampler

    scene = SceneSampler(_poser_factory, _object_source("heldout"), np.random.default_rng(3)).sample("hold_two")
    # camera on the body's forward side (engine bodies face +x, z up), looking at the pelvis
    pelvis = scene.joints[0]
    eye = pelvis + np.array([3.0, 0.0, 0.2])
    fwd = (pelvis - eye) / np.linalg.norm(pelvis - eye)
    right = np.cross(fwd, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    rot = np.stack([right, down, fwd])
    to_cam = lambda p: (np.asarray(p) - eye) @ rot.T
    obj = scene.obj
    return {"joints": to_cam(scene.joints), "vertices": to_cam(scene.vertices),
            "keypoints": to_cam(obj.to_world(obj.asset.keypoints)), "surface": to_cam(obj.surface_points_world()),
            "faces": scene.poser.faces, "id": obj.asset.id, "extents": obj.asset.extents}


def evidence(prior, s, **kw) -> PriorEvidence:
    return PriorEvidence(prior, s["joints"], s["keypoints"], s["id"], s["extents"], **kw)


def test_bad_inputs_switch_the_term_off(prior, held_scene):
    s = held_scene
    assert evidence(prior, s).unavailable() is None
    nan = dict(s, joints=np.where(np.arange(22)[:, None] == 3, np.nan, s["joints"]))
    assert "not finite" in evidence(prior, nan).unavailable()
    flat = dict(s, joints=np.repeat(s["joints"][:1], 22, 0))
    assert "collapse" in evidence(prior, flat).unavailable()
    at_camera = dict(s, keypoints=s["keypoints"] - s["keypoints"][8])
    assert "at the camera" in evidence(prior, at_camera).unavailable()
    assert "never saw" in evidence(prior, dict(s, id="035_power_drill")).unavailable()
    assert "no kind" in evidence(prior, dict(s, id="someone_elses_object")).unavailable()


def test_ray_scale_pulls_a_receded_object_back(prior, held_scene):
    s = held_scene
    assert solve_ray_scale(evidence(prior, s, weight=0.0))[0] == 1.0  # no prior: the start's depth stays
    receded = dict(s, keypoints=1.25 * s["keypoints"])  # same image, 25 % farther and larger
    f, info = solve_ray_scale(evidence(prior, receded, weight=5.0, depth_sigma=1.0))
    assert f < 0.95, f"the prior left the object {f:.2f}x where it started, 25 % behind the hands"
    assert np.isfinite(info["energy"]).all()


def test_term_has_finite_values_and_gradients(prior, held_scene):
    s = held_scene
    term = SpatialPriorTerm(evidence(prior, s))
    res = fit(None, None, [term], K, steps=5, free=("object",), obj=ObjectStart(s["keypoints"]), object_lr=0.01)
    assert np.isfinite(res.object_params).all() and np.isfinite(res.energy).all()


def test_contact_candidates_from_masks(prior, held_scene):
    from hoi_perception.raster import fill_triangles, pinhole_project

    s = held_scene
    ev = evidence(prior, s, contact_weight=1.0)
    body_mask = fill_triangles(pinhole_project(s["vertices"], K, 1e-3)[s["faces"]], (480, 640))
    dots = np.round(pinhole_project(s["surface"], K, 1e-3)).astype(int)
    object_mask = np.zeros((480, 640), bool)
    object_mask[np.clip(dots[:, 1], 0, 479), np.clip(dots[:, 0], 0, 639)] = True
    import cv2

    object_mask = cv2.dilate(object_mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    contact, why = contact_candidates(ev, s["vertices"], s["surface"], object_mask, body_mask, K)
    assert contact is not None, why
    f, _ = solve_ray_scale(dict_replace(ev, keypoints=1.2 * s["keypoints"], weight=0.0, depth_sigma=1.0),
                           contact=type(contact)(contact.body, 1.2 * contact.object))
    assert f < 0.95  # the contact term alone pulls the receded object back onto the hands
    none, why = contact_candidates(ev, s["vertices"], s["surface"], np.zeros_like(object_mask), body_mask, K)
    assert none is None and "overlap" in why


def dict_replace(ev: PriorEvidence, keypoints, **kw) -> PriorEvidence:
    from dataclasses import replace

    return replace(ev, object_keypoints=keypoints, **kw)


def test_prior_scores_are_differentiable_in_the_keypoints(prior, held_scene):
    s = held_scene
    from hoi_perception.spatialprior.layout import ring_viewports
    from hoi_perception.spatialprior.prior import object_kind

    score = prior.scorer(torch.as_tensor(s["joints"], dtype=torch.float32), object_kind(s["id"]), s["extents"],
                         ring_viewports(8))
    kp = torch.as_tensor(s["keypoints"])[None].requires_grad_(True)
    score(kp).sum().backward()
    assert torch.isfinite(kp.grad).all() and kp.grad.abs().sum() > 0
