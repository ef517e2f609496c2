"""`hoi-perception batch` as a user runs it, on a real local Ray cluster (2 CPUs, started once for this module)."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hoi_perception.cli import main as cli_main

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
PARKOUR = ROOT.parent / "shared" / "data" / "video" / "parkour_dev" / "kv01_PKFC.mp4"
LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): (ok|skipped|failed)(?:: (.*))? \((\d+\.\d) s\)$")
# the smallest hand clips the engine makes (test/synth uses 96 px, 3 frames)
SYNTH_ARGS = ["--kind", "hand", "--n", "2", "--seed", "3", "--size", "64", "--frames", "2", "--shard-size", "1"]


@pytest.fixture(scope="module")
def cluster():
    # The batches below run in this process and use this connection (run_batch leaves it open), so
    # their tasks share warm workers; joining by --address from another process: test_executor.py.
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def progress(stdout: str) -> dict[str, str]:
    """item id -> status, from the progress lines (every one must be well formed)."""
    lines = [line for line in stdout.splitlines() if line.startswith("[")]
    matches = [LINE.match(line) for line in lines]
    assert lines and all(matches), stdout
    return {m[3]: m[4] for m in matches}


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_batch_synth_makes_what_synth_makes_and_resumes(tmp_path, cluster, capsys):
    from hoi_perception.synth.shards import ShardSet

    ref, out = tmp_path / "ref", tmp_path / "batch" / "hand"
    assert cli_main(["synth", *SYNTH_ARGS, "--workers", "0", "--no-progress", "--out", str(ref)]) == 0
    capsys.readouterr()
    assert cli_main(["batch", "synth", *SYNTH_ARGS, "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert progress(stdout) == {"shard-000000": "ok", "shard-000001": "ok"}
    assert "2 hand samples in 2 shard(s)" in stdout
    a, b = ShardSet(ref), ShardSet(out)
    assert len(a) == len(b) == 2
    for (ia, xa, ma), (ib, xb, mb) in zip(a.iter_shards(), b.iter_shards(), strict=True):
        assert ia == ib and ma == mb and sorted(xa) == sorted(xb)
        for key in xa:
            np.testing.assert_array_equal(xa[key], xb[key], err_msg=f"sample {ia} {key}")
    assert files(out) == files(ref)  # same files, same bytes: the manifest (the resume marker) included
    report = json.loads((tmp_path / "batch" / "hand.batch_report.json").read_bytes())
    assert report["finished"] and report["counts"]["ok"] == 2

    # A rerun finds both shards done (listed and hash-checked, as `synth` resumes) and runs nothing.
    assert cli_main(["batch", "synth", *SYNTH_ARGS, "--out", str(out)]) == 0
    assert progress(capsys.readouterr().out) == {"shard-000000": "skipped", "shard-000001": "skipped"}
    assert files(out) == files(ref)
    # Another dataset in the same folder is refused, not mixed in.
    assert cli_main(["batch", "synth", *SYNTH_ARGS, "--seed", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "different arguments" in err and "Traceback" not in err


def tiny_video(path: Path, frames: int = 3) -> None:
    """A few frames of a real clip at half size, written with OpenCV as a user's camera file would be."""
    import cv2

    cap = cv2.VideoCapture(str(PARKOUR))
    images = [cap.read()[1] for _ in range(frames)]
    cap.release()
    h, w = images[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w // 2, h // 2))
    for image in images:
        writer.write(cv2.resize(image, (w // 2, h // 2)))
    writer.release()


def test_batch_reconstruct_reports_a_corrupt_video_and_resumes(tmp_path, cluster, capsys):
    if importlib.util.find_spec("hoi_perception.motion4d.reconstruct") is None:
        pytest.skip("no hoi_perception.motion4d.reconstruct")
    videos, out = tmp_path / "videos", tmp_path / "clips"
    videos.mkdir()
    (videos / "broken.mp4").write_bytes(np.random.default_rng(0).bytes(20_000))
    real = PARKOUR.is_file()
    if real:
        tiny_video(videos / "tiny.mp4")

    assert cli_main(["batch", "reconstruct", str(videos), "--out", str(out), "--max-frames", "3"]) == 1
    stdout = capsys.readouterr().out
    assert progress(stdout)["broken"] == "failed"
    line = next(line for line in stdout.splitlines() if "] broken: " in line)
    assert "broken.mp4" in line and "Traceback" not in line  # the exception's own message, on one line
    report = json.loads((out / "batch_report.json").read_bytes())
    entry = report["items"]["broken"]
    assert entry["status"] == "failed" and "broken.mp4" in entry["message"] and "Traceback" in entry["traceback"]
    assert report["finished"] and report["counts"]["failed"] == 1
    if not real:
        return
    # the real clip is unaffected by its neighbour and is done when its summary says so
    assert progress(stdout)["tiny"] == "ok" and report["items"]["tiny"]["status"] == "ok"
    assert json.loads((out / "tiny" / "summary.json").read_bytes())["status"] == "done"
    assert "frames=3" in report["items"]["tiny"]["message"]
    mtime = (out / "tiny" / "summary.json").stat().st_mtime_ns

    # a rerun skips the finished clip, tries the broken one again, and still exits 1
    assert cli_main(["batch", "reconstruct", str(videos), "--out", str(out), "--max-frames", "3"]) == 1
    assert progress(capsys.readouterr().out) == {"tiny": "skipped", "broken": "failed"}
    assert (out / "tiny" / "summary.json").stat().st_mtime_ns == mtime


def test_usage_errors(tmp_path, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    cases = [
        (["--workers", "2", "--address", "127.0.0.1:1"], "with --address"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--stride", "0"], "--stride must be >= 1"),
        ([], "no videos"),
    ]
    for extra, message in cases:
        assert cli_main(["batch", "reconstruct", str(videos), "--out", str(tmp_path / "o"), *extra]) == 2
        assert message in capsys.readouterr().err
    (videos / "a.mp4").write_bytes(b"x")
    (videos / "a.avi").write_bytes(b"x")
    assert cli_main(["batch", "reconstruct", str(videos), "--out", str(tmp_path / "o")]) == 2
    assert "a.avi, a.mp4" in capsys.readouterr().err
    assert cli_main(["batch", "reconstruct", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_an_address_nobody_answers_at_is_a_clear_error(tmp_path):
    # In a fresh process: this module's own connection would otherwise be reused.
    (tmp_path / "v.mp4").write_bytes(b"x")
    r = subprocess.run([sys.executable, "-m", "hoi_perception", "batch", "reconstruct", str(tmp_path), "--out",
                        str(tmp_path / "o"), "--address", "127.0.0.1:1"], check=False, capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 2 and "no Ray cluster answers at 127.0.0.1:1" in r.stderr and "Traceback" not in r.stderr


def test_only_a_batch_needs_ray():
    # the batch modules import ray only to run, and the single-video path never does
    modules = ["hoi_perception.batch", "hoi_perception.batch.cli", "hoi_perception.batch.jobs", "hoi_perception.cli"]
    modules += [m for m in ("hoi_perception.motion4d.cli", "hoi_perception.motion4d.reconstruct")
                if importlib.util.find_spec(m) is not None]
    code = f"import sys, {', '.join(modules)}; assert 'ray' not in sys.modules, 'ray imported'"
    r = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
