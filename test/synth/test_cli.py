"""`hoi-perception synth` and `synth-preview` as a user runs them."""
import subprocess
import sys

import cv2


def run(*args):
    return subprocess.run([sys.executable, "-m", "hoi_perception", *args], capture_output=True, text=True)


def test_synth_rejects_impossible_counts(tmp_path):
    r = run("synth", "--kind", "hand", "--n", "0", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "--n must be positive" in r.stderr and "Traceback" not in r.stderr
    r = run("synth", "--kind", "hand", "--n", "2", "--frames", "1", "--out", str(tmp_path / "y"))
    assert r.returncode == 2 and "frames" in r.stderr
    r = run("synth", "--kind", "fullbody", "--n", "2", "--framing", "closeup", "--out", str(tmp_path / "z"))
    assert r.returncode == 2 and "hand clips only" in r.stderr and "Traceback" not in r.stderr
    r = run("synth", "--kind", "hand", "--n", "2", "--distractors", "2", "--out", str(tmp_path / "w"))
    assert r.returncode == 2 and "full-body scenes only" in r.stderr and "Traceback" not in r.stderr
    r = run("synth", "--kind", "fullbody", "--n", "2", "--distractors", "9", "--out", str(tmp_path / "v"))
    assert r.returncode == 2 and "distractors" in r.stderr and "Traceback" not in r.stderr


def test_preview_sheet(tiny_datasets, tmp_path):
    out = tmp_path / "sheet.png"
    r = run("synth-preview", str(tiny_datasets["fullbody"]), "--rows", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    img = cv2.imread(str(out))
    assert img.shape[0] == 2 * 128 and img.shape[1] == 4 * 128 and img.std() > 10


def test_preview_of_a_missing_dataset_is_an_error(tmp_path):
    r = run("synth-preview", str(tmp_path / "nothing"))
    assert r.returncode == 2 and "cannot open dataset" in r.stderr
