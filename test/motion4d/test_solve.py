"""The clip solve on evidence made from a known motion: it recovers the motion, finds the floor,
smooths what per-frame noise shook, and places an object by annotated pairs (and says when pairs
contradict each other)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hoi_perception.body.joints import BODY_JOINTS
from hoi_perception.metrics import pa_mpjpe
from hoi_perception.motion4d.solve import ClipSolver, ClipSolveSettings

FAST = ClipSolveSettings(steps_pose=40, steps_full=40)
OBJECT = "025_mug"


@pytest.fixture(scope="module")
def solver(body):
    from hoi_perception.fitting.pose_prior import default_pose_prior

    return ClipSolver(body, default_pose_prior(), FAST)


@pytest.fixture(scope="module")
def solved(solver, walking):
    _params, _out, ev = walking
    return solver.solve(ev)


def test_recovers_the_motion_and_the_floor(walking, solved):
    _params, out, ev = walking
    truth = out.joints.numpy()
    err = np.mean([pa_mpjpe(solved.joints[t], truth[t]) for t in range(ev.num_frames)])
    assert solved.solved.all() and solved.segments == [(0, ev.num_frames)]
    assert err < 45.0, f"PA-MPJPE {err:.1f} mm"
    # camera y is down: the floor's normal points to -y
    assert np.degrees(np.arccos(solved.ground_normal @ np.array([0.0, -1.0, 0.0]))) < 12.0
    # the standing (right) foot holds still on the floor in most frames
    assert solved.foot_ground[:, [1, 3]].any(1).mean() > 0.6
    wfc = solved.world_from_camera
    feet_world = solved.keypoints[:, :, :] @ wfc[:3, :3].T + wfc[:3, 3]
    assert np.abs(np.percentile(feet_world[..., 2].min(1), 50)) < 0.05  # the lowest point stands on z = 0


def test_smoother_than_its_noisy_evidence_per_frame(walking, solved):
    """The joints' acceleration stays near the true motion's, though the keypoints jitter by 2 px
    and the landmarks by 2 cm in every frame."""
    _params, out, ev = walking
    truth = out.joints.numpy()

    def acc(j):
        return np.linalg.norm(j[2:] - 2 * j[1:-1] + j[:-2], axis=-1).mean()

    world = ev.world[:, [ev.keypoint_names.index(n) for n in ("left_wrist", "right_wrist", "left_knee")]]
    model = truth[:, [BODY_JOINTS.index(n) for n in ("left_wrist", "right_wrist", "left_knee")]]
    assert acc(solved.joints) < 5.0 * acc(truth)
    assert acc(model) < acc(world)  # the evidence is the noisier
    assert acc(solved.joints[:, [BODY_JOINTS.index(n) for n in ("left_wrist", "right_wrist", "left_knee")]]) < acc(world)


def _with_object(ev, truth_joints, shift):
    """The mug held 8 cm in front of the right wrist; each frame's estimate ``shift`` metres off."""
    from hoi_perception.assets import object_library

    asset = object_library().get(OBJECT)
    n = ev.num_frames
    wrist = truth_joints[:, BODY_JOINTS.index("right_wrist")]
    pose = np.tile(np.eye(4), (n, 1, 1))
    centre = asset.surface_points.mean(0)
    pose[:, :3, 3] = wrist + np.array([0.0, 0.0, -0.08]) - centre
    noisy = pose.copy()
    noisy[:, :3, 3] += shift
    ev = dataclasses.replace(ev, object_id=OBJECT, object_pose=noisy, object_valid=np.ones(n, bool),
                             object_source=["given"] * n)
    # the template point that truly touches the wrist: the surface point nearest it in frame 0
    local = asset.surface_points[np.argmin(np.linalg.norm(asset.surface_points + pose[0, :3, 3] - wrist[0], axis=1))]
    return ev, pose, local


def test_annotated_pairs_pull_the_object_to_the_hand(solver, walking):
    _params, out, ev = walking
    truth = out.joints.numpy()
    ev, pose, local = _with_object(ev, truth, np.array([0.0, 0.0, 0.25]))  # estimates 25 cm too deep
    pair = {"id": "grip", "frames": [0, ev.num_frames - 1], "object_point": local.tolist(),
            "target": {"joint": "right_wrist"}}
    free = solver.solve(ev)
    held = solver.solve(ev, {"pairs": [pair], "object_static": False, "object_scale": None})
    err_free = np.linalg.norm(free.object_pose[:, :3, 3] - pose[:, :3, 3], axis=1).mean()
    err_held = np.linalg.norm(held.object_pose[:, :3, 3] - pose[:, :3, 3], axis=1).mean()
    assert held.pair_residuals["grip"] < 0.03
    assert err_held < 0.7 * err_free, (err_held, err_free)
    assert not any("grip" in w for w in held.warnings)
    # the annotation loop's re-solve: from the unannotated solution, stage 2 only
    again = solver.solve(ev, {"pairs": [pair], "object_static": False, "object_scale": None}, previous=free)
    assert again.pair_residuals["grip"] < 0.03
    assert np.linalg.norm(again.object_pose[:, :3, 3] - pose[:, :3, 3], axis=1).mean() < 0.7 * err_free


def test_contradicting_pairs_are_reported(solver, walking):
    _params, out, ev = walking
    ev, _pose, local = _with_object(ev, out.joints.numpy(), np.zeros(3))
    pairs = [{"id": "right", "frames": [0, 15], "object_point": local.tolist(), "target": {"joint": "right_wrist"}},
             {"id": "left", "frames": [0, 15], "object_point": local.tolist(), "target": {"joint": "left_ankle"}}]
    sol = solver.solve(ev, {"pairs": pairs, "object_static": False, "object_scale": None})
    assert any("contradicts" in w for w in sol.warnings), sol.warnings


def test_segments_split_at_missing_people_and_cuts(walking):
    _params, _out, ev = walking
    person = np.ones(ev.num_frames, bool)
    person[5] = False
    cut = np.zeros(ev.num_frames, bool)
    cut[11] = True
    ev2 = dataclasses.replace(ev, person=person, cut=cut)
    assert ev2.segments() == [(0, 5), (6, 11), (11, 16)]
    person[1:] = False
    assert dataclasses.replace(ev, person=person, cut=cut).segments() == []


def test_a_clip_without_a_person_says_so(solver, walking):
    _params, _out, ev = walking
    ev2 = dataclasses.replace(ev, person=np.zeros(ev.num_frames, bool))
    with pytest.raises(ValueError, match="no run of 3 or more frames with a person"):
        solver.solve(ev2)
