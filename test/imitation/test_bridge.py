"""The perception recorder's clip is accepted as it is and can be trained on."""
import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hoi_imitation import ClipError
from hoi_imitation.clip import load_clip
from hoi_imitation.cli import main
from hoi_imitation.skeleton import INDEX

recorder = pytest.importorskip("hoi_perception.pipeline.clip_recorder")
types = pytest.importorskip("hoi_perception.pipeline.types")

# camera: optical frame, tilted 10 degrees down, 3 m in front of the walker
OPT_FROM_WORLD = (Rotation.from_euler("x", 10, degrees=True).as_matrix()
                  @ np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]))


def _recorder_clip(walk_path, tmp_path, template="basketball", shuffle=False):
    walk = load_clip(walk_path)
    cam = np.array([-3.0, 0.0, 1.2])
    to_cam = lambda p: (p - cam) @ OPT_FROM_WORLD.T  # noqa: E731
    frames = []
    for t in range(walk.num_frames):
        body = types.BodyState(model_id="anny", joints=to_cam(walk.joint_pos[t]), joint_set="hoi_body22")
        ball = walk.joint_pos[t, INDEX["right_wrist"]] + np.array([0.05, 0.0, -0.08])
        obj = types.ObjectState(pose=types.Pose(to_cam(ball), [0, 0, 0, 1]), template_id=template, instance_id=1,
                                class_name="ball")
        frames.append(types.MotionFrame(stamp_ns=int(1e9 * walk.timestamps[t]) + 10**12, body=body,
                                        objects=[obj] if t % 5 else []))  # object missed in some frames
    if shuffle:
        frames[3], frames[4] = frames[4], frames[3]
    clip = types.MotionClip(clip_id="walk_cam", fps=walk.fps, frame_id="camera_color_optical_frame", frames=frames)
    return recorder.write_clip(clip, tmp_path / "walk_cam.npz"), walk


def test_recorder_clip_converts_to_z_up_world(walk_path, tmp_path):
    path, walk = _recorder_clip(walk_path, tmp_path)
    c = load_clip(path)
    assert c.object.id == "basketball" and c.contact_names[-1] == "hands:object"
    # same motion up to a rigid transform: bone lengths kept, head above pelvis, z up
    d_src = np.linalg.norm(walk.joint_pos[:, INDEX["left_knee"]] - walk.joint_pos[:, INDEX["left_hip"]], axis=-1)
    d_new = np.linalg.norm(c.joint_pos[:, INDEX["left_knee"]] - c.joint_pos[:, INDEX["left_hip"]], axis=-1)
    np.testing.assert_allclose(d_new, d_src, atol=1e-5)
    up = c.joint_pos[:, INDEX["neck"]] - c.joint_pos[:, INDEX["pelvis"]]
    assert (up[:, 2] / np.linalg.norm(up, axis=-1)).mean() > 0.95
    assert c.contacts[:, -1].mean() > 0.9  # the ball stays at the hand


def test_recorder_clip_bad_inputs(walk_path, tmp_path):
    path, _ = _recorder_clip(walk_path, tmp_path, template="teapot_42")
    with pytest.raises(ClipError, match="unknown object 'teapot_42'"):
        load_clip(path)
    path, _ = _recorder_clip(walk_path, tmp_path, shuffle=True)
    with pytest.raises(ClipError, match="frames out of order"):
        load_clip(path)


def test_short_training_on_recorder_clip(walk_path, tmp_path):
    path, _ = _recorder_clip(walk_path, tmp_path)
    out = tmp_path / "run"
    assert main(["train", "--clip", str(path), "--out", str(out), "--steps", "256", "--n-steps", "256",
                 "--batch-size", "128", "--net", "64,64"]) == 0
    assert json.loads((out / "checkpoint" / "state.json").read_text())["num_timesteps"] == 256
