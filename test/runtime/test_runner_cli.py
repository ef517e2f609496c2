"""`hoi-perception run`: the same stages without ROS, recorded into a rosbag2 MCAP."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hoi_perception.paths import shared_data_dir

REPO = Path(__file__).resolve().parents[2]

VIDEO = shared_data_dir() / "video" / "hand_object_wild" / "wild1.mp4"
CLI = [sys.executable, "-m", "hoi_perception", "run"]


def run(*args, timeout=120, env=None):
    import os

    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          env=None if env is None else {**os.environ, **env})


@pytest.fixture(scope="module")
def video():
    if not VIDEO.is_file():
        pytest.skip(f"shared test video {VIDEO} is missing")
    return VIDEO


@pytest.fixture(scope="module")
def handobject_expected(video):
    """frame index -> the shipped hand-object model's result on the video's first 6 frames, read as the
    runner reads them (a result draws only on frames up to its own, so shorter runs give the same)."""
    from hoi_perception.pipeline.sources import open_source
    from hoi_perception.pipeline.stages import ReconstructionStage, load_reconstructor

    stage = ReconstructionStage(load_reconstructor("handobject", "handobject"))
    source = open_source(str(video), hfov_deg=60.0, max_frames=6)
    results = {f.index: stage.process(f) for f in source}
    source.close()
    return {i: r for i, r in results.items() if r is not None}


def fullbody_expected(d: Path):
    """The shipped full-body model's result on the first frame of folder `d`, read as the runner reads it."""
    from hoi_perception.pipeline.mask_source import MaskedSource
    from hoi_perception.pipeline.sources import open_source
    from hoi_perception.pipeline.stages import load_reconstructor

    source = MaskedSource(open_source(str(d / "img"), hfov_deg=60.0), d / "mask_h", d / "mask_o")  # as the runner
    frame = next(iter(source))
    source.close()
    return load_reconstructor("fullbody", "fullbody").reconstruct(frame)


def test_run_writes_mcap_with_one_result_per_frame(tmp_path, behave_folder):
    """The shipped full-body model on real frames with their masks, full meshes asked for: one result per
    frame in the bag, equal to the reconstructor's in-process result, overlays, meshes, a motion clip."""
    from mcap.reader import make_reader

    d, names = behave_folder(masked=3)
    n = len(names)
    p = run("--source", d / "img", "--person-masks", d / "mask_h", "--object-masks", d / "mask_o", "--out",
            tmp_path / "o", "--no-progress", "--mesh-every", 2, "--overlay-every", 1, "--markers",
            "--mesh-detail", "full", timeout=300)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "o"
    bags = list((out / "bag").glob("*.mcap"))
    assert len(bags) == 1 and (out / "bag" / "metadata.yaml").is_file()
    counts, schemas = {}, {}
    with bags[0].open("rb") as fh:  # the independent mcap reader
        for schema, channel, _ in make_reader(fh).iter_messages():
            counts[channel.topic] = counts.get(channel.topic, 0) + 1
            schemas[channel.topic] = schema.name
    assert counts["/hoi/fullbody"] == n and schemas["/hoi/fullbody"] == "hoi_msgs/msg/HoiFrame"
    assert counts["/hoi/fullbody/markers"] == n and counts["/tf"] == n
    assert counts["/hoi/fullbody/mesh_topology"] == 1
    # the payload decodes with types rebuilt from the bag itself and matches the model run here
    msgs = _bag_messages(out / "bag", "/hoi/fullbody")
    exp = fullbody_expected(d)
    np.testing.assert_allclose(msgs[0].bodies[0].joints.reshape(-1, 3), exp.bodies[0].joints, atol=1e-4)
    # the full mesh, as asked
    assert all(m.mesh_detail == m.MESH_DETAIL_FULL and m.bodies[0].vertex_subset == "" for m in msgs)
    np.testing.assert_allclose(msgs[0].bodies[0].vertices.reshape(-1, 3), exp.bodies[0].vertices, atol=1e-4)
    np.testing.assert_allclose(msgs[0].bodies[0].vertex_contact, exp.bodies[0].vertex_contact, atol=1e-4)
    np.testing.assert_allclose([msgs[0].objects[0].pose.position.x, msgs[0].objects[0].pose.position.y,
                                msgs[0].objects[0].pose.position.z], exp.objects[0].pose.position, atol=1e-4)
    assert [m.frame_index for m in msgs] == list(range(n))
    assert len(list((out / "overlays").glob("*.jpg"))) == n
    assert {p.name for p in (out / "meshes").glob("*.ply")} >= {"000000_body0.ply", "000002_body0.ply"}
    assert len(list((out / "clips").glob("*.npz"))) == 1
    # the output folder is not overwritten
    again = run("--source", d / "img", "--out", out, "--max-frames", 1, "--no-progress")
    assert again.returncode == 2 and "exists already" in again.stderr


def test_run_refuses_without_trained_model(tmp_path, video):
    # The default model is the shipped one; on a machine whose model folder lacks it, the runner
    # refuses instead of running anything else.
    (tmp_path / "empty_models").mkdir()
    p = run("--source", video, "--out", tmp_path / "o", "--no-progress", env={"HOI_MODELS_DIR": str(tmp_path / "empty_models")})
    assert p.returncode == 2 and "no trained handobject model available" in p.stderr  # a video without masks: handobject
    assert not (tmp_path / "o" / "bag").exists()
    p = run("--source", video, "--out", tmp_path / "o", "--model", "does-not-exist", "--no-progress")
    assert p.returncode == 2 and "does not exist" in p.stderr


@pytest.mark.parametrize("args,needle", [
    (["--source", "{tmp}/missing.mp4"], "does not exist"),
    (["--source", "{tmp}/corrupt.mp4"], "cannot open video|no decodable frames"),
    (["--source", "{tmp}/notabag"], "cannot open rosbag2"),
    (["--source", "{video}", "--object", "ycb/999_unknown"], "unknown object id"),
    (["--source", "{video}", "--intrinsics", "nan,1,2,3"], "not finite"),
    (["--source", "{video}", "--intrinsics", "1,2"], "fx,fy,cx,cy"),
    (["--source", "{video}", "--device", "cuda"], "no CUDA provider"),
])
def test_run_bad_input_exits_nonzero(tmp_path, video, args, needle):
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00garbage" * 200)
    (tmp_path / "notabag").mkdir()
    (tmp_path / "notabag" / "metadata.yaml").write_text("not: [valid")
    args = [a.format(tmp=tmp_path, video=video) for a in args]
    p = run(*args, "--out", tmp_path / "o", "--max-frames", 1, "--no-progress")
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    import re

    assert re.search(needle, p.stderr), p.stderr


def test_run_on_a_gpu_this_machine_lacks_is_refused(tmp_path, video):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    p = run("--source", video, "--out", tmp_path / "o", "--task", "handobject", "--backend", "torch", "--device", "cuda",
            "--max-frames", 1, "--no-progress")
    assert p.returncode == 2 and "no CUDA GPU" in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert not (tmp_path / "o" / "bag").exists()


def start_run_and_wait(video: Path, out: Path, results: int) -> subprocess.Popen:
    """A hand-object run on the video in the background, once it has written `results` overlays."""
    import time

    proc = subprocess.Popen(CLI + ["--source", str(video), "--out", str(out), "--task", "handobject",
                                   "--no-progress", "--overlay-every", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "overlays").glob("*.jpg"))) < results:
        time.sleep(0.1)
    return proc


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_leaves_a_readable_bag_and_a_report(tmp_path, video, sig, code):
    """Ctrl-C and SIGTERM (what systemd, docker and launch send) both finish the bag and the report."""
    proc = start_run_and_wait(video, tmp_path, results=3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    from mcap.reader import make_reader

    with next((tmp_path / "bag").glob("*.mcap")).open("rb") as fh:
        n = sum(1 for _, c, _ in make_reader(fh).iter_messages() if c.topic == "/hoi/handobject")
    assert 3 <= n < 170
    import json

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] and report["results"] == n


def test_run_with_the_shipped_handobject_model(tmp_path, video, handobject_expected):
    """The main job: the trained hand-object model on the real video, read back independently; with full
    meshes asked for, the bag holds the in-process result's object and hand meshes."""
    import json

    from mcap.reader import make_reader

    p = run("--source", video, "--out", tmp_path / "o", "--task", "handobject", "--max-frames", 6, "--no-progress",
            "--overlay-every", 1, "--mesh-every", 30, "--mesh-detail", "full", timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["model"] == "handobject" and report["frames_read"] == 6
    assert report["results"] >= 4  # the first frame(s) fill the keyframe buffer
    with next((tmp_path / "o" / "bag").glob("*.mcap")).open("rb") as fh:
        n = sum(1 for _, c, _ in make_reader(fh).iter_messages() if c.topic == "/hoi/handobject")
    assert n == report["results"]
    for msg in _bag_messages(tmp_path / "o" / "bag", "/hoi/handobject"):
        exp = handobject_expected[msg.frame_index]
        assert msg.mesh_detail == msg.MESH_DETAIL_FULL and msg.hands[0].vertex_subset == ""
        np.testing.assert_allclose(msg.object.mesh.vertices.reshape(-1, 3), exp.object.mesh.vertices, atol=1e-4)
        np.testing.assert_array_equal(msg.object.mesh.faces.reshape(-1, 3), exp.object.mesh.faces)
        np.testing.assert_allclose(msg.hands[0].vertices.reshape(-1, 3), exp.hands[0].vertices, atol=1e-4)
    assert len(list((tmp_path / "o" / "overlays").glob("*.jpg"))) == report["results"]
    # the hand holding the object comes with its fitted anny hand mesh
    import trimesh

    hands = sorted((tmp_path / "o" / "meshes").glob("*_body0.ply"))
    assert hands, "no hand mesh written"
    hand = trimesh.load(hands[-1], process=False)
    assert len(hand.faces) > 1000 and 0.1 < float(np.ptp(hand.vertices, axis=0).max()) < 0.4


BEHAVE = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"


@pytest.fixture()
def behave_folder(tmp_path):
    """make(masked=2) -> (folder, names): three real BEHAVE frames, the first `masked` of them with their
    person/object masks in mask_h/ and mask_o/."""
    import shutil

    if not (BEHAVE / "img").is_dir():
        pytest.skip(f"shared BEHAVE frames {BEHAVE} are missing")

    def make(masked: int = 2):
        d = tmp_path / f"behave_{masked}"
        names = sorted(p.stem for p in (BEHAVE / "img").glob("*.jpg"))[:3]
        for sub in ("img", "mask_h", "mask_o"):
            (d / sub).mkdir(parents=True)
        for i, n in enumerate(names):
            shutil.copy(BEHAVE / "img" / f"{n}.jpg", d / "img")
            if i < masked:
                shutil.copy(BEHAVE / "mask_h" / f"{n}.jpg", d / "mask_h")
                shutil.copy(BEHAVE / "mask_o" / f"{n}.jpg", d / "mask_o")
        return d, names

    return make


def test_run_fullbody_with_mask_folders(tmp_path, behave_folder):
    """The shipped full-body model on real frames, masks read from an upstream segmenter's folders;
    a frame without masks is named and gets its object mask from the object segmenter (each result
    says where its mask came from). By default the results are compact:
    the in-process result's parameters, joints and contacts, its vertices on the network's subset,
    whose indices come once with the faces."""
    import json

    from hoi_perception.pipeline.clip_recorder import read_clip

    d, names = behave_folder()
    p = run("--task", "fullbody", "--source", d / "img", "--person-masks", d / "mask_h", "--object-masks",
            d / "mask_o", "--out", tmp_path / "o", "--no-progress", timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["model"] == "fullbody" and report["frames_read"] == 3 and report["mesh_detail"] == "compact"
    assert report["results"] == 3 and report["skipped_frames"] == 0
    assert report["frames_without_masks"] == [names[2]]
    sources = [m.objects[0].mask_source for m in _bag_messages(tmp_path / "o" / "bag", "/hoi/fullbody")]
    assert sources == ["given", "given", "segmenter"]
    exp = fullbody_expected(d)
    eb, eo = exp.bodies[0], exp.objects[0]
    (topo,) = _bag_messages(tmp_path / "o" / "bag", "/hoi/fullbody/mesh_topology")
    assert topo.num_vertices == len(eb.vertices) and len(topo.faces) > 0
    assert topo.vertex_subset == "anny_body/subset431" and len(topo.vertex_subset_indices) == 431
    msg = _bag_messages(tmp_path / "o" / "bag", "/hoi/fullbody")[0]
    body, obj = msg.bodies[0], msg.objects[0]
    assert msg.mesh_detail == msg.MESH_DETAIL_COMPACT and body.vertex_subset == topo.vertex_subset
    np.testing.assert_allclose(body.vertices.reshape(-1, 3), eb.vertices[topo.vertex_subset_indices], atol=1e-4)
    np.testing.assert_allclose(body.vertex_contact, eb.vertex_contact[topo.vertex_subset_indices], atol=1e-4)
    np.testing.assert_allclose(body.joints.reshape(-1, 3), eb.joints, atol=1e-4)
    np.testing.assert_allclose(body.pose_params, eb.pose_params, atol=1e-4)
    np.testing.assert_allclose(body.shape_params, eb.shape_params, atol=1e-4)
    assert obj.template_id == eo.template_id and len(obj.mesh.vertices) == 0
    np.testing.assert_allclose(obj.vertex_contact, eo.vertex_contact, atol=1e-4)
    np.testing.assert_allclose([obj.pose.position.x, obj.pose.position.y, obj.pose.position.z], eo.pose.position,
                               atol=1e-4)
    # the clip holds what the bag holds
    clip = read_clip(report["clips"][0])
    assert clip.frames[0].body.vertex_subset == topo.vertex_subset
    np.testing.assert_allclose(clip.frames[0].body.vertex_contact, body.vertex_contact, atol=1e-6)


def test_run_fullbody_with_object_masks_only_takes_the_person_from_the_front_end(tmp_path, behave_folder):
    """No person masks: the front end finds the person; the bag holds the same body as the reconstructor
    run in-process on the frame with its object mask alone."""
    import json

    from hoi_perception.pipeline.mask_source import MaskedSource
    from hoi_perception.pipeline.sources import open_source
    from hoi_perception.pipeline.stages import load_reconstructor

    pytest.importorskip("mediapipe")
    d, names = behave_folder(masked=1)
    p = run("--source", d / "img", "--object-masks", d / "mask_o", "--out", tmp_path / "o", "--no-progress",
            "--max-frames", "2", timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["task"] == "fullbody" and report["results"] == 2 and report["frames_without_masks"] == [names[1]]
    source = MaskedSource(open_source(str(d / "img"), hfov_deg=60.0), None, d / "mask_o")
    frame = next(iter(source))
    source.close()
    assert frame.masks.shape[0] == 1
    exp = load_reconstructor("fullbody", "fullbody").reconstruct(frame).bodies[0]
    body = _bag_messages(tmp_path / "o" / "bag", "/hoi/fullbody")[0].bodies[0]
    np.testing.assert_allclose(body.joints.reshape(-1, 3), exp.joints, atol=1e-4)
    np.testing.assert_allclose(body.pose_params, exp.pose_params, atol=1e-4)


def test_run_fullbody_mask_folder_errors(tmp_path, behave_folder):
    import cv2

    d, _ = behave_folder()
    common = ["--task", "fullbody", "--source", d / "img", "--no-progress"]
    p = run(*common, "--person-masks", d / "mask_h", "--out", tmp_path / "a")
    assert p.returncode == 2 and "--person-masks needs --object-masks" in p.stderr
    p = run(*common, "--person-masks", d / "mask_h", "--object-masks", d / "nope", "--out", tmp_path / "b")
    assert p.returncode == 2 and "object mask folder" in p.stderr and "does not exist" in p.stderr
    f = next((d / "mask_o").glob("*.jpg"))
    cv2.imwrite(str(f), np.zeros((10, 12), np.uint8))  # wrong size
    p = run(*common, "--person-masks", d / "mask_h", "--object-masks", d / "mask_o", "--out", tmp_path / "c",
            timeout=300)
    assert p.returncode == 2 and "but the image is" in p.stderr and "Traceback" not in p.stderr


def _bag_messages(bag: Path, topic: str) -> list:
    from rosbags.highlevel import AnyReader

    with AnyReader([bag]) as r:
        conns = [c for c in r.connections if c.topic == topic]
        if not conns:  # (no connections would mean every message to rosbags)
            return []
        return [r.deserialize(raw, c.msgtype) for c, _, raw in r.messages(connections=conns)]


def test_user_intrinsics_are_used_as_given(tmp_path, video):
    """fx,fy,cx,cy in pixels of the 720x1280 video reach the bag unchanged (they were once rescaled
    from an image size guessed from the principal point); one outside the image is an error."""
    p = run("--source", video, "--out", tmp_path / "o", "--task", "handobject", "--max-frames", 2, "--no-progress",
            "--record-images", "--intrinsics", "900,900,300,600")
    assert p.returncode == 0, p.stderr
    info = _bag_messages(tmp_path / "o" / "bag", "/camera/camera_info")[0]
    np.testing.assert_allclose(np.asarray(info.k).reshape(3, 3), [[900, 0, 300], [0, 900, 600], [0, 0, 1]])
    assert (info.width, info.height) == (720, 1280)
    p = run("--source", video, "--out", tmp_path / "o2", "--task", "handobject", "--max-frames", 2, "--no-progress",
            "--intrinsics", "900,900,1000,600")
    assert p.returncode == 2 and "outside the 720x1280 images" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("args,needle", [
    (["--hfov", "200"], "--hfov must lie between 1 and 179"),
    (["--stride", "0"], "--stride >= 1"),
    (["--intrinsics=-5,900,300,600"], "fx and fy must be positive"),
    (["--mesh-detail", "mesh"], "invalid choice: 'mesh'"),
])
def test_out_of_range_options_exit_2(tmp_path, video, args, needle):
    p = run("--source", video, "--out", tmp_path / "o", "--task", "handobject", *args, "--no-progress")
    assert p.returncode == 2 and needle in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_out_that_is_a_file_exits_2(tmp_path, video):
    (tmp_path / "taken").write_text("a file")
    p = run("--source", video, "--out", tmp_path / "taken", "--task", "handobject", "--no-progress")
    assert p.returncode == 2 and "is a file, not a folder" in p.stderr and "Traceback" not in p.stderr


def test_task_comes_from_the_model_card(tmp_path, video, handobject_expected):
    p = run("--source", video, "--out", tmp_path / "o", "--model", "handobject", "--max-frames", 3, "--no-progress")
    assert p.returncode == 0, p.stderr
    import json

    assert json.loads((tmp_path / "o" / "report.json").read_text())["task"] == "handobject"
    # by default only what a robot needs: results, topology and /tf in the bag; no markers, meshes or overlays
    msgs = _bag_messages(tmp_path / "o" / "bag", "/hoi/handobject")
    assert len(msgs) == 2
    assert not _bag_messages(tmp_path / "o" / "bag", "/hoi/handobject/markers")
    assert not (tmp_path / "o" / "overlays").exists() and not (tmp_path / "o" / "meshes").exists()
    # and compact: the in-process result's poses and hand joints, the hand mesh on its subset, no object mesh
    (topo,) = _bag_messages(tmp_path / "o" / "bag", "/hoi/handobject/mesh_topology")
    assert topo.vertex_subset == f"{topo.model_id}/subset128" and len(topo.vertex_subset_indices) == 128
    for msg in msgs:
        exp = handobject_expected[msg.frame_index]
        assert msg.mesh_detail == msg.MESH_DETAIL_COMPACT and len(msg.object.mesh.vertices) == 0
        poses = [[p.position.x, p.position.y, p.position.z] for p in msg.keyframe_object_poses]
        np.testing.assert_allclose(poses, [p.position for p in exp.keyframe_object_poses], atol=1e-4)
        (hand,), (eh,) = msg.hands, exp.hands
        assert hand.model_id == eh.model_id == topo.model_id and hand.vertex_subset == topo.vertex_subset
        np.testing.assert_allclose(hand.joints.reshape(-1, 3), eh.joints, atol=1e-4)
        np.testing.assert_allclose(hand.vertices.reshape(-1, 3), eh.vertices[topo.vertex_subset_indices], atol=1e-4)
    p = run("--source", video, "--out", tmp_path / "o2", "--task", "fullbody", "--model", "handobject", "--no-progress")
    assert p.returncode == 2 and "is a handobject model, not fullbody" in p.stderr and "--task handobject" in p.stderr


def test_a_single_photo_says_what_the_hand_object_model_needs(tmp_path, video):
    import cv2

    (tmp_path / "one").mkdir()
    cap = cv2.VideoCapture(str(video))
    ok, bgr = cap.read()
    cap.release()
    cv2.imwrite(str(tmp_path / "one" / "photo.jpg"), bgr)
    p = run("--source", tmp_path / "one", "--out", tmp_path / "o", "--task", "handobject", "--no-progress")
    assert p.returncode == 2 and "needs at least 2 frames" in p.stderr and "Traceback" not in p.stderr


def test_corrupt_image_is_skipped_and_the_run_goes_on(tmp_path, video):
    import json

    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    cap = cv2.VideoCapture(str(video))
    for i in range(3):
        ok, bgr = cap.read()
        cv2.imwrite(str(folder / f"{i:03d}.jpg"), cv2.resize(bgr, (360, 640)))
    cap.release()
    (folder / "001b.jpg").write_bytes(b"\xff\xd8 not a jpeg at all" * 10)  # between frames 1 and 2
    p = run("--source", folder, "--out", tmp_path / "o", "--task", "handobject", "--no-progress", timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["frames_read"] == 4 and report["skipped_frames"] == 1 and report["results"] >= 1
    assert any("001b.jpg" in s for s in report["source_problems"]) and "001b.jpg" in p.stderr


def test_truncated_video_is_reported(tmp_path, video):
    import json

    data = video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.3)])  # the container still lists every frame
    p = run("--source", cut, "--out", tmp_path / "o", "--task", "handobject", "--no-progress", timeout=600)
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    problem = " ".join(report["source_problems"])
    assert "of the 170 frames its container lists" in problem and "truncated" in p.stderr
    assert report["frames_read"] < 170


def test_a_model_that_gives_nan_fails_the_run(tmp_path, video):
    """A partly overwritten ONNX file still loads; every frame it gives is rejected, and the run says so
    with a non-zero exit instead of ending 'successfully' with no result."""
    import shutil

    from hoi_perception.paths import models_dir

    import onnx

    broken = tmp_path / "broken"
    shutil.copytree(models_dir() / "handobject", broken)
    data = bytearray((broken / "model.onnx").read_bytes())
    largest = max(onnx.load(str(broken / "model.onnx")).graph.initializer, key=lambda t: len(t.raw_data))
    start = data.find(largest.raw_data)
    assert start > 0
    data[start:start + len(largest.raw_data)] = b"\xff" * len(largest.raw_data)  # its weights overwritten: NaN
    (broken / "model.onnx").write_bytes(bytes(data))
    p = run("--source", video, "--out", tmp_path / "o", "--model", broken, "--max-frames", 4, "--no-progress")
    assert p.returncode == 2 and "no frame gave a result" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_no_result_from_non_scenes(tmp_path):
    """Tiny, blank and featureless images through the runner: every frame refused, none invented."""
    import json

    import cv2

    folder = tmp_path / "non_scenes"
    folder.mkdir()
    images = {"a_1x1": np.full((1, 1, 3), 128, np.uint8), "b_2x2": np.zeros((2, 2, 3), np.uint8),
              "c_blank": np.full((480, 640, 3), 200, np.uint8), "d_blank": np.full((480, 640, 3), 30, np.uint8)}
    for name, img in images.items():
        cv2.imwrite(str(folder / f"{name}.png"), img)
    p = run("--source", folder, "--out", tmp_path / "o", "--task", "handobject", "--no-progress")
    assert p.returncode == 2 and "no frame gave a result" in p.stderr, p.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["results"] == 0 and report["skipped_frames"] == 4
    assert not _bag_messages(tmp_path / "o" / "bag", "/hoi/handobject")


def test_a_killed_run_is_recovered(tmp_path, video):
    """SIGKILL leaves no closed bag; the report written at the start names `recover`, which makes every
    message written before the kill readable."""
    import json

    out = tmp_path / "o"
    proc = start_run_and_wait(video, out, results=4)
    proc.kill()
    proc.communicate(timeout=30)
    report = json.loads((out / "report.json").read_text())
    assert report["state"] == "running" and report["if_killed"] == f"hoi-perception recover {out}"
    assert not (out / "bag").exists()
    p = subprocess.run([sys.executable, "-m", "hoi_perception", "recover", str(out)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    assert [p.name for p in (out / "bag").glob("*.mcap")] == ["bag.mcap"]
    assert not list(out.glob(".bag.*"))
    results = _bag_messages(out / "bag", "/hoi/handobject")
    assert len(results) >= 3 and all(m.mesh_detail == m.MESH_DETAIL_COMPACT and len(m.keyframe_object_poses) >= 2
                                     for m in results)
    again = subprocess.run([sys.executable, "-m", "hoi_perception", "recover", str(out)], capture_output=True,
                           text=True, cwd=REPO, timeout=120)
    assert again.returncode == 2 and "nothing to recover" in again.stderr
