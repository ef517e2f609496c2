"""The body fit recovers a known anny pose from what a front end would see of it: 2D keypoints,
world landmarks and a silhouette rendered from the body itself."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from hoi_perception.body.interface import BodyParams
from hoi_perception.body.joints import BODY_POSE_JOINTS
from hoi_perception.fitting.body_fit import BODY_KEYPOINTS, BodyEvidence, BodyFitter
from hoi_perception.fitting.pose_prior import default_pose_prior
from hoi_perception.frontend.interface import PersonDetection, box_of
from hoi_perception.metrics import mask_iou, pa_mpjpe
from hoi_perception.raster import fill_triangles, pinhole_project

K = np.array([[600.0, 0, 320], [0, 600.0, 240], [0, 0, 1]])
OPTICAL_FROM_BODY = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])  # facing the camera: see below


def _posed(body) -> BodyParams:
    """A person facing the camera 3 m away, one arm raised, one knee bent."""
    p = body.rest_params(1)
    pose = p.pose.clone()
    names = list(body.pose_joint_names)
    pose[0, names.index("left_shoulder")] = torch.tensor([-1.2, 0.0, 0.0])
    pose[0, names.index("right_elbow")] = torch.tensor([0.0, 0.0, -1.0])
    pose[0, names.index("left_knee")] = torch.tensor([0.0, 1.0, 0.0])
    # body x (forward) -> camera -z (towards the camera), body z (up) -> camera -y
    face = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
    return BodyParams(p.shape, pose, torch.as_tensor(face, dtype=torch.float32)[None], torch.tensor([[0.05, 0.1, 3.0]]))


def _detection(body, params: BodyParams) -> tuple[PersonDetection, np.ndarray, np.ndarray]:
    with torch.no_grad():
        out = body(params, keypoints=True)
    kp3 = out.keypoints[0].double().numpy()
    names = tuple(BODY_KEYPOINTS)
    idx = [body.keypoint_names.index(BODY_KEYPOINTS[n]) for n in names]
    uv = pinhole_project(kp3[idx], K, 1e-3)
    hips = [names.index("left_hip"), names.index("right_hip")]
    world = kp3[idx] - kp3[idx][hips].mean(0)
    verts = out.vertices[0].double().numpy()
    mask = fill_triangles(pinhole_project(verts, K, 1e-3)[body.faces.numpy()], (480, 640))
    person = PersonDetection(names, uv, np.ones(len(names)), world, mask.astype(np.float32),
                             box_of(uv, None, 0.1, (480, 640)), 1.0)
    return person, out.joints[0].numpy(), mask


@pytest.fixture(scope="module")
def scene(body):
    params = _posed(body)
    return params, *_detection(body, params)


def test_fit_from_landmarks_recovers_the_pose_and_the_silhouette(body, scene):
    _, person, joints, mask = scene
    fitter = BodyFitter(body, default_pose_prior())
    start = fitter.start_from_landmarks(person, K)
    with torch.no_grad():
        start_joints = body(start).joints[0].numpy()
    res = fitter.fit(BodyEvidence(person, [], mask), K)
    fitted = res.output.joints[0].numpy()
    # the start already swings the limbs onto the world landmarks; the fit takes it the rest of the way
    assert pa_mpjpe(start_joints, joints) > 10.0
    assert pa_mpjpe(fitted, joints) < 0.8 * pa_mpjpe(start_joints, joints)
    assert pa_mpjpe(fitted, joints) < 20.0  # mm
    assert np.linalg.norm(fitted[0] - joints[0]) < 0.25  # depth from the body's size, within 25 cm at 3 m
    sil = fill_triangles(pinhole_project(res.output.vertices[0].double().numpy(), K, 1e-3)[body.faces.numpy()],
                         (480, 640))
    assert mask_iou(sil, mask) > 0.8
    assert set(res.terms) >= {"keypoints_2d", "world_landmarks", "pose_prior", "silhouette", "shape_prior"}
    assert res.history[-1] < res.history[0]


def test_too_few_shared_keypoint_names_is_a_clear_error(body, scene):
    _, person, _, mask = scene
    from dataclasses import replace

    renamed = replace(person, keypoint_names=tuple(f"kp{i}" for i in range(len(person.keypoint_names))))
    with pytest.raises(ValueError, match="fewer than 4 names"):
        BodyFitter(body, default_pose_prior()).fit(BodyEvidence(renamed, [], mask), K)


def test_body_fitter_refuses_a_hand_model(hand_model):
    with pytest.raises(ValueError, match="body model"):
        BodyFitter(hand_model, None)


def test_pose_prior_prefers_a_person_to_a_contortion(body):
    prior = default_pose_prior()
    rest = body.rest_params(2)
    pose = rest.pose.clone()
    names = list(body.pose_joint_names)
    for j in ("left_knee", "right_knee"):  # knees bent backwards by 120 degrees, forwards for the first
        pose[0, names.index(j)] = torch.tensor([0.0, 1.2, 0.0])
        pose[1, names.index(j)] = torch.tensor([0.0, -2.1, 0.0])
    with torch.no_grad():
        nll = prior(body(BodyParams(rest.shape, pose, rest.global_orient, rest.transl)).joints)
    assert float(nll[0]) + 0.5 < float(nll[1])
    assert len(BODY_POSE_JOINTS) == 21


def test_a_stream_starts_each_fit_from_the_same_persons_recent_fit(body, scene):
    """PersonFit (fullbody/person.py) in video mode with warm starts on: the same track within half a
    second starts from its last fit with half the steps; another track, an old fit or a photo start afresh."""
    pytest.importorskip("mediapipe")
    from hoi_perception.frontend.factory import make_frontend
    from hoi_perception.frontend.interface import Detections
    from hoi_perception.fullbody.person import WARM_MAX_AGE_NS, ChosenPerson, PersonFit

    _, person, joints, mask = scene
    fitter = BodyFitter(body, default_pose_prior())
    full = fitter.s.steps_pose + fitter.s.steps_full

    def chosen(track: int) -> ChosenPerson:
        p = dataclasses.replace(person, track_id=track)
        return ChosenPerson(Detections((480, 640), [p]), 0, "test", mask)

    default = PersonFit(make_frontend(mode="video"), fitter)  # warm starts are off unless asked for
    default.fit(chosen(1), K, None, mask, None, stamp_ns=0)
    assert default.fit(chosen(1), K, None, mask, None, stamp_ns=0).steps == full
    stream = PersonFit(make_frontend(mode="video"), fitter, WARM_MAX_AGE_NS)
    first = stream.fit(chosen(1), K, None, mask, None, stamp_ns=0)
    warm = stream.fit(chosen(1), K, None, mask, None, stamp_ns=100_000_000)
    assert first.steps == full and warm.steps == full // 2
    # the warm fit lands where the fresh one did (mm)
    assert pa_mpjpe(warm.output.joints[0].numpy(), joints) < pa_mpjpe(first.output.joints[0].numpy(), joints) + 5.0
    assert stream.fit(chosen(2), K, None, mask, None, stamp_ns=200_000_000).steps == full  # another person
    late = 200_000_000 + WARM_MAX_AGE_NS + 1
    assert stream.fit(chosen(2), K, None, mask, None, stamp_ns=late).steps == full  # too old a start
    stream.reset()
    assert stream.fit(chosen(2), K, None, mask, None, stamp_ns=late + 1).steps == full  # reset forgets
    photos = PersonFit(make_frontend(mode="image"), fitter, WARM_MAX_AGE_NS)
    photos.fit(chosen(1), K, None, mask, None, stamp_ns=0)
    assert photos.fit(chosen(1), K, None, mask, None, stamp_ns=1).steps == full
