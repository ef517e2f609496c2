"""realclips: the shipped hand-object model on real videos; a video it cannot read is reported, not fatal."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from hoi_perception.handobject.training.realclips import main, overlay_panel, read_frames
from hoi_perception.paths import models_dir, shared_data_dir

SHIPPED = models_dir() / "handobject"
VIDEOS = shared_data_dir() / "video" / "hand_object_wild"


def test_read_frames_drops_what_cannot_be_decoded(tmp_path):
    path = tmp_path / "five.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    for i in range(5):
        writer.write(np.full((24, 32, 3), 40 * i, np.uint8))
    writer.release()
    frames = read_frames(path, [0, 3, 99])  # 99: past the end
    assert len(frames) == 2 and frames[0].shape == (24, 32, 3)
    assert abs(int(frames[1].mean()) - 120) < 8  # frame 3, not frame 1 (MJPG is lossy)
    (tmp_path / "bad.avi").write_bytes(b"\x00not a video")
    assert read_frames(tmp_path / "bad.avi", [0]) == []


def test_overlay_panel_marks_silhouette_and_visible_mask():
    img = np.full((32, 32, 3), 100, np.uint8)
    k = np.array([[32.0, 0, 15.5], [0, 32.0, 15.5], [0, 0, 1]])
    # a square of 0.1 m, 1 m in front of the camera: about 3x3 pixels in the middle of the image
    verts = np.array([[-0.05, -0.05, 0], [0.05, -0.05, 0], [0.05, 0.05, 0], [-0.05, 0.05, 0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    pose = np.eye(4)
    pose[2, 3] = 1.0
    masks = np.zeros((2, 32, 32), np.float32)
    masks[1, :4, :4] = 1.0  # visible mask in the top-left corner
    panel = overlay_panel(img, k, verts, faces, pose, masks)
    assert panel.shape == (96, 96, 3)
    b, g, r = panel[48, 48]
    assert r > 150 and b < 100  # silhouette: red (BGR)
    b, g, r = panel[3, 3]
    assert g > 140 and r < 100  # visible mask: green
    assert (panel[80, 80] == 100).all()  # elsewhere: the image


@pytest.mark.skipif(not (SHIPPED / "model_card.yaml").is_file(), reason="shipped handobject model not present")
def test_real_video_measured_and_corrupt_video_reported(tmp_path, capsys):
    if not VIDEOS.is_dir() or not list(VIDEOS.glob("*.mp4")):
        pytest.skip(f"shared real videos {VIDEOS} are missing")
    good = min(VIDEOS.glob("*.mp4"), key=lambda p: p.stat().st_size)  # the shortest to decode
    vids = tmp_path / "videos"
    vids.mkdir()
    (vids / good.name).symlink_to(good)
    (vids / "bad.mp4").write_bytes(np.random.default_rng(0).bytes(64))
    out = tmp_path / "out"
    rc = main(["--out", str(out), "--videos", str(vids), "--model", "handobject", "--keyframes", "2",
               "--seconds", "1", "--live-frames", "3"])
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["videos"]) == {good.stem, "bad"}
    entry = report["videos"][good.stem]
    assert "error" not in entry
    assert 0.0 <= entry["iou_visible"] <= 1.0 and 0.0 <= entry["iou_amodal"] <= 1.0
    assert entry["live"]["frames"] == 3 and entry["live"]["results"] >= 1
    assert (out / f"{good.stem}_mesh.ply").stat().st_size > 0
    overlay = cv2.imread(str(out / f"{good.stem}_overlay.jpg"))
    assert overlay is not None and overlay.shape[1] == 2 * overlay.shape[0]  # two keyframe panels side by side
    assert "bad.mp4" in report["videos"]["bad"]["error"] and set(report["videos"]["bad"]) == {"error"}
    assert "bad.mp4" in capsys.readouterr().out
    assert not list(out.glob(".report.json.*"))  # no temporary file left behind


def test_compare_pairs_reports_video_by_video(tmp_path):
    from hoi_perception.handobject.training.realclips import compare_reports

    def report(d, shift, bad=()):
        d.mkdir()
        videos = {f"v{i}": {"iou_visible": 0.5 + 0.01 * i + shift, "iou_amodal": 0.6, "jitter_trans_cm": 2.0 - shift}
                  for i in range(3)}
        videos.update({name: {"error": "x.mp4: cannot be opened as a video"} for name in bad})
        (d / "report.json").write_text(json.dumps({"videos": videos}))
        return d

    runs = [report(tmp_path / "a1", 0.1, bad=("v9",)), report(tmp_path / "a2", 0.1)]
    bases = [report(tmp_path / "b1", 0.0), report(tmp_path / "b2", 0.0, bad=("v0",))]
    diff = compare_reports(runs, bases)
    assert diff["n"] == 5  # v0 of the second pair has an error on one side, v9 exists on one side only
    assert diff["iou_visible"]["mean"] == pytest.approx(0.1) and diff["iou_visible"]["sem"] == pytest.approx(0.0, abs=1e-12)
    assert diff["jitter_trans_cm"]["mean"] == pytest.approx(-0.1) and diff["iou_amodal"]["mean"] == 0.0
    with pytest.raises(ValueError):
        compare_reports(runs, bases[:1])  # folders are paired one to one
