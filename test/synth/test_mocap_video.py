"""Mocap-driven synthetic videos: the video, masks and 4D truth agree with each other and with the mocap."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from hoi_perception.paths import shared_data_dir

MOCAP = shared_data_dir() / "mocap"
# a short fit keeps the test quick; the error bound below still holds with it
QUICK = {"shape_frames": 4, "steps_shape": 40, "steps_pose": 40}


def _clip(rel: str):
    path = MOCAP / rel
    if not path.is_file():
        pytest.skip(f"shared mocap data not found: {path}")
    return path


def _frames(video) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


def _project(points: np.ndarray, K: np.ndarray, camera_from_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pc = points @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    return pc[:, :2] / pc[:, 2:] * [K[0, 0], K[1, 1]] + K[:2, 2], pc[:, 2]


def _at(mask: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """mask value (dilated by one pixel: joints of thin limbs at this size) at pixels uv, False off the image."""
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    u, v = np.round(uv).astype(int).T
    inside = (u >= 0) & (u < mask.shape[1]) & (v >= 0) & (v < mask.shape[0])
    out = np.zeros(len(uv), bool)
    out[inside] = grown[v[inside], u[inside]]
    return out


@pytest.fixture(scope="module")
def ballplay(tmp_path_factory):
    from hoi_perception.synth import mocap_video as mv

    out = tmp_path_factory.mktemp("ballplay")
    clip = _clip("skillmimic_ballplay/back/041_018pickle_pick2back_7.pt")
    summary = mv.render_mocap_video(clip, out, seconds=0.4, start_s=1.0, size=(160, 120), camera="still", seed=3,
                                    fit=mv.FitSettings(**QUICK))
    return out, summary


def test_video_has_the_frames_and_size(ballplay):
    out, summary = ballplay
    frames = _frames(out / "video.mp4")
    assert len(frames) == 10 == summary["frames"]
    assert all(f.shape == (120, 160, 3) for f in frames)
    assert np.std(frames[0]) > 5  # a scene, not a blank image


def test_truth_is_consistent(ballplay):
    from hoi_perception import assets
    from hoi_perception.body.interface import BodyParams

    out, summary = ballplay
    z = np.load(out / "truth.npz", allow_pickle=False)
    assert z["camera_from_world"].shape == (10, 4, 4) and z["K"].shape == (3, 3)
    assert tuple(z["image_size"]) == (160, 120) and float(z["fps"]) == 25.0
    R = z["camera_from_world"][:, :3, :3]
    np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
    np.testing.assert_allclose(R[:, 1], np.broadcast_to([0, 0, -1], (10, 3)), atol=1e-9)  # horizontal: image down = -z
    assert np.allclose(z["camera_from_world"], z["camera_from_world"][:1])  # a still camera
    # the anny truth reproduces its joints from the recorded world-frame parameters
    params = BodyParams(*(torch.as_tensor(z[k]) for k in ("body_shape", "body_pose", "body_global_orient",
                                                           "body_transl")))
    assert np.allclose(z["body_shape"], z["body_shape"][:1])  # one person
    with torch.no_grad():
        joints = assets.body_model()(params).joints.numpy()
    np.testing.assert_allclose(joints, z["joints_world"], atol=2e-4)
    # close to the mocap, standing on the floor at z = 0
    err = np.linalg.norm(z["joints_world"] - z["mocap_joints_world"], axis=-1).mean()
    assert err < 0.05 and float(z["mocap_joint_error_m"]) == pytest.approx(err, abs=1e-4)
    feet = z["joints_world"][:, [7, 8, 10, 11], 2]
    assert 0.0 < feet.min() < 0.15
    # the ball: the clip's, with its contact flags, and a library template of about its size
    assert str(z["object_template"]) == summary["object_template"] != ""
    assert z["object_valid"].all() and float(z["object_radius"]) == pytest.approx(0.119)
    assert "hands:object" in list(z["contact_names"]) and z["contacts"].shape == (10, len(z["contact_names"]))


def test_masks_match_the_projected_truth(ballplay):
    from hoi_perception.synth.mocap_video import unpack_masks

    out, _ = ballplay
    z = np.load(out / "truth.npz", allow_pickle=False)
    m = np.load(out / "object_masks.npz", allow_pickle=False)
    person, ball = unpack_masks(m["person"], 160), unpack_masks(m["object"], 160)
    assert person.shape == ball.shape == (10, 120, 160)
    assert not (person & ball).any()
    K, cams = z["K"], z["camera_from_world"]
    joint_hits, ball_hits = [], []
    for t in range(10):
        uv, _ = _project(z["joints_world"][t], K, cams[t])
        joint_hits.append(_at(person[t], uv) | _at(ball[t], uv))  # the ball may hide a hand
        centre, depth = _project(z["object_pose_world"][t, :3, 3][None], K, cams[t])
        assert depth[0] > 1.0
        ball_hits.append(_at(ball[t], centre)[0] or _at(person[t], centre)[0])  # held: the hand may hide it
        if ball[t].sum() >= 4:  # the visible ball lies about its projected centre
            ys, xs = np.nonzero(ball[t])
            radius_px = K[0, 0] * float(z["object_radius"]) / depth[0]
            assert np.hypot(xs.mean() - centre[0, 0], ys.mean() - centre[0, 1]) < radius_px + 1.5
    assert np.mean(joint_hits) > 0.85
    assert np.mean(ball_hits) > 0.8 and sum(ball[t].sum() > 0 for t in range(10)) >= 5


def test_bvh_clip_without_object_moving_camera(tmp_path):
    from hoi_perception.synth import mocap_video as mv

    clip = _clip("cmu_131_bvh/scaled_131_01.bvh")
    summary = mv.render_mocap_video(clip, tmp_path, seconds=0.2, size=(160, 120), camera="moving", seed=1,
                                    fit=mv.FitSettings(shape_frames=3, steps_shape=30, steps_pose=30))
    frames = _frames(tmp_path / "video.mp4")
    assert len(frames) == 5 and frames[0].shape == (120, 160, 3)
    assert not (tmp_path / "object_masks.npz").exists()
    z = np.load(tmp_path / "truth.npz", allow_pickle=False)
    assert str(z["object_template"]) == "" and not z["object_valid"].any()
    assert summary["object"] is None and summary["mocap_joint_error_m"] < 0.08
    cams = z["camera_from_world"]
    # the camera slides TRAVEL_M and turns PAN_DEG over the clip, staying horizontal
    pos = [-c[:3, :3].T @ c[:3, 3] for c in cams]
    assert np.linalg.norm(pos[-1] - pos[0]) == pytest.approx(mv.TRAVEL_M, abs=1e-6)
    turn = np.degrees(np.arccos(np.clip(cams[0][2, :3] @ cams[-1][2, :3], -1, 1)))
    assert turn == pytest.approx(mv.PAN_DEG, abs=1e-3)
    assert np.allclose(cams[:, 1, :3], [0, 0, -1])
