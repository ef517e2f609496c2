"""`hoi-perception reconstruct` end to end on real video frames, and its messages on bad input."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from hoi_perception.cli import main as cli
from hoi_perception.paths import shared_data_dir

PARKOUR = shared_data_dir() / "video" / "parkour_dev" / "kv01_PKFC.mp4"


def write_video(path, frames: int) -> None:
    """A small grey mp4 of ``frames`` frames: nobody in it."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (160, 120))
    for _ in range(frames):
        writer.write(np.full((120, 160, 3), 90, np.uint8))
    writer.release()


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    """The first 8 frames of a real parkour video (a person running up to the bar)."""
    from hoi_perception.motion4d.reconstruct import reconstruct_video
    from hoi_perception.motion4d.solve import ClipSolveSettings

    out = tmp_path_factory.mktemp("kv01") / "clip"
    summary = reconstruct_video(PARKOUR, out, max_frames=8, fps=25.0,
                                settings=ClipSolveSettings(steps_pose=30, steps_full=30))
    return out, summary


def test_writes_every_file_and_a_done_summary(clip_dir):
    out, summary = clip_dir
    assert summary["status"] == "done" and summary["solved_frames"] >= 6
    assert json.loads((out / "summary.json").read_text())["status"] == "done"
    assert len(list((out / "frames").glob("*.jpg"))) == 8
    for name in ("evidence.npz", "solution.npz", "clip.npz", "overlay.mp4", "side.mp4"):
        assert (out / name).is_file(), name
    cap = cv2.VideoCapture(str(out / "overlay.mp4"))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 8


def test_the_imitation_clip_stands_upright_on_the_ground(clip_dir):
    from hoi_imitation.clip import load_clip
    from hoi_perception.body.joints import BODY_JOINTS

    out, _summary = clip_dir
    clip = load_clip(out / "clip.npz")
    pos = clip.joint_pos
    head, ankles = pos[:, BODY_JOINTS.index("head"), 2], pos[:, [BODY_JOINTS.index("left_ankle"), BODY_JOINTS.index("right_ankle")], 2]
    assert np.all(head - ankles.min(1) > 1.2)  # a running person's head is well above the ankles, z up
    assert np.all(ankles.min(1) > -0.05) and np.all(ankles.min(1) < 0.3)  # the feet are near z = 0
    assert clip.fps == pytest.approx(25.0)


def test_resolve_rereads_annotations_and_refuses_pairs_without_an_object(clip_dir, capsys):
    out, _summary = clip_dir
    before = (out / "solution.npz").stat().st_mtime_ns
    assert cli(["reconstruct", "--resolve", str(out), "--no-videos"]) == 0
    assert "frames solved" in capsys.readouterr().out
    assert (out / "solution.npz").stat().st_mtime_ns > before
    assert json.loads((out / "summary.json").read_text())["videos_current"] is False
    (out / "annotations.json").write_text(json.dumps({"pairs": [
        {"frames": [0, 2], "object_point": [0, 0, 0], "target": {"joint": "left_wrist"}}]}))
    assert cli(["reconstruct", "--resolve", str(out), "--no-videos"]) == 2
    assert "no object" in capsys.readouterr().err


def test_bad_inputs_get_clear_messages(tmp_path, capsys):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    assert cli(["reconstruct", str(junk), "--out", str(tmp_path / "a")]) == 2
    assert "not a readable video" in capsys.readouterr().err
    empty = tmp_path / "empty.mp4"
    empty.touch()
    assert cli(["reconstruct", str(empty), "--out", str(tmp_path / "b")]) == 2
    assert "empty" in capsys.readouterr().err
    assert cli(["reconstruct", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "c")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli(["reconstruct", "--resolve", str(tmp_path)]) == 2
    assert "not a clip folder" in capsys.readouterr().err


def test_a_video_without_a_person_fails_with_a_reason_in_the_summary(tmp_path, capsys):
    grey = tmp_path / "grey.mp4"
    write_video(grey, 6)
    assert cli(["reconstruct", str(grey), "--out", str(tmp_path / "out"), "--no-videos"]) == 2
    assert "no run of 3 or more frames with a person" in capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "failed" and "person" in summary["error"]
