"""The annotation server's HTTP API without a browser, on a real clip folder (conftest.py)."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from hoi_perception.motion4d import annotations as ann
from hoi_perception.motion4d.scene import ClipScene


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def _post(url: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _array(b64: str, dtype: str, cols: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.dtype(dtype).newbyteorder("<")).reshape(-1, cols)


@pytest.fixture(scope="module")
def served(clip_copy, annotate_server):
    clip_dir = clip_copy("server")
    with annotate_server(clip_dir) as server:
        yield clip_dir, server


def test_clip_meta_frames_and_meshes_match_the_scene(served):
    clip_dir, server = served
    scene = ClipScene.open(clip_dir)
    status, body, ctype = _get(server.url + "api/clip")
    assert status == 200 and ctype == "application/json"
    meta = json.loads(body)
    assert meta["num_frames"] == scene.num_frames and meta["fps"] == pytest.approx(scene.fps)
    assert meta["image_size"] == list(scene.image_size) and meta["joint_names"] == list(scene.joint_names)
    np.testing.assert_allclose(meta["camera"], scene.camera)
    np.testing.assert_array_equal(_array(meta["body_faces"], "i4", 3), scene.body_faces)
    assert meta["object_id"] == scene.object_id
    np.testing.assert_array_equal(_array(meta["object_faces"], "i4", 3), scene.object_faces)

    last = scene.num_frames - 1
    status, body, ctype = _get(server.url + f"api/frame/{last}.jpg")
    assert status == 200 and ctype == "image/jpeg" and body == scene.frame_jpeg(last)
    img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert (img.shape[1], img.shape[0]) == tuple(scene.image_size)

    status, body, _ = _get(server.url + f"api/meshes/{last}")
    assert status == 200
    got, want = json.loads(body), scene.meshes(last)
    assert want["body_vertices"] is not None and want["object_vertices"] is not None, "the test clip's last frame"
    for name in ("body_vertices", "joints", "object_vertices"):
        np.testing.assert_array_equal(_array(got[name], "f4", 3), want[name].astype(np.float32))
    np.testing.assert_allclose(got["object_pose"], want["object_pose"])


@pytest.mark.parametrize("path", ["api/frame/{n}.jpg", "api/frame/-1.jpg", "api/meshes/{n}", "api/meshes/-3",
                                  "api/meshes/abc", "api/frame/1.png"])
def test_bad_frame_is_404_with_a_message(served, path):
    clip_dir, server = served
    n = ClipScene.open(clip_dir).num_frames
    status, body, ctype = _get(server.url + path.format(n=n))
    assert status == 404 and ctype == "application/json"
    message = json.loads(body)["error"]
    assert "frame" in message and f"{n - 1}" in message, message


def test_bad_annotations_are_400_and_leave_the_file_as_it_was(served):
    clip_dir, server = served
    scene = ClipScene.open(clip_dir)
    good = {"format": ann.FORMAT, "pairs": [{"id": "a", "frames": [0, scene.num_frames - 1],
                                             "object_point": [0.0, 0.01, 0.02], "target": {"joint": "left_wrist"}}],
            "object_static": True, "object_scale": None}
    status, saved = _post(server.url + "api/annotations", json.dumps(good).encode())
    assert status == 200 and saved["pairs"][0]["target"] == {"joint": "left_wrist"}
    path = clip_dir / ann.FILE_NAME
    before = path.read_bytes()
    assert json.loads(before) == saved

    unknown_joint = {**good, "pairs": [{**good["pairs"][0], "target": {"joint": "left_tail"}}]}
    past_the_end = {**good, "pairs": [{**good["pairs"][0], "frames": [0, scene.num_frames]}]}
    for body, words in ((json.dumps(unknown_joint).encode(), "left_tail"),
                        (json.dumps(past_the_end).encode(), "outside"),
                        (b"{not json", "not JSON"),
                        (json.dumps({**good, "object_scale": -2}).encode(), "positive")):
        status, reply = _post(server.url + "api/annotations", body)
        assert status == 400 and words in reply["error"], reply
        assert path.read_bytes() == before
    status, body, _ = _get(server.url + "api/annotations")
    assert status == 200 and json.loads(body) == saved


def test_second_resolve_while_one_runs_is_409(served):
    """A re-solve in progress is the server's held resolve lock; holding it makes the overlap certain."""
    _, server = served
    lock = server.state.resolve_lock
    assert lock.acquire(blocking=False)
    try:
        status, reply = _post(server.url + "api/resolve", b"")
    finally:
        lock.release()
    assert status == 409 and "already running" in reply["error"]


def test_page_files_and_vendored_three(served):
    _, server = served
    status, body, ctype = _get(server.url)
    assert status == 200 and ctype.startswith("text/html")
    assert b'"three": "/vendor/three/three.module.js"' in body and b"/app.js" in body
    status, body, ctype = _get(server.url + "app.js")
    assert status == 200 and ctype.startswith("text/javascript") and b"from 'three'" in body
    for name in ("three.module.js", "three.core.js"):  # three.module.js imports ./three.core.js
        status, body, ctype = _get(server.url + f"vendor/three/{name}")
        assert status == 200 and ctype.startswith("text/javascript") and len(body) > 100_000
    for bad in ("vendor/three/..%2Fpackage.json", "vendor/three/../../index.html", "vendor/three/nope.js", "x"):
        assert _get(server.url + bad)[0] == 404


def _start_cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "hoi_perception", "annotate", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_cli_serves_prints_the_url_and_stops_on_ctrl_c(clip_copy):
    clip_dir = clip_copy("cli")
    proc = _start_cli(str(clip_dir), "--no-browser")
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + proc.stderr.read()
        url = line[line.index("http://"):].split()[0]
        status, body, _ = _get(url + "api/clip")
        assert status == 200 and json.loads(body)["num_frames"] == ClipScene.open(clip_dir).num_frames
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0, err
    assert "stopped" in out


def test_cli_errors_name_the_problem(tmp_path):
    missing = _start_cli(str(tmp_path / "nope"), "--no-browser")
    _, err = missing.communicate(timeout=120)
    assert missing.returncode == 2 and "is not a folder" in err
    not_a_clip = _start_cli(str(tmp_path), "--no-browser")
    _, err = not_a_clip.communicate(timeout=120)
    assert not_a_clip.returncode == 2 and "annotate: error:" in err and "Traceback" not in err
