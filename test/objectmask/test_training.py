"""The object segmenter's training on a few real engine scenes: pairs shaped like the live prompt, a
seeded run that resumes from its checkpoint, and a release the live segmenter loads."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
import yaml

from hoi_perception.objectmask.prompt import SIZE
from hoi_perception.objectmask.segmenter import ObjectSegmenter
from hoi_perception.objectmask.training import release, train
from hoi_perception.objectmask.training.data import batch, load_views


@pytest.fixture(scope="module")
def scenes(engine_dataset):
    return engine_dataset("fullbody", 2, 5, 96)


def test_pairs_hold_the_prompt_and_the_visible_object(scenes):
    views = load_views([scenes])
    assert len(views) == 4 and views.hands.shape == (4, 2, 21, 2)
    assert views.target.any(axis=(1, 2)).all() and not (views.target & views.person).any()
    x, y = batch(views, np.arange(4), np.random.default_rng(0), augment=False)
    assert x.shape == (4, 5, SIZE, SIZE) and y.shape == (4, SIZE, SIZE)
    assert (y.sum((1, 2)) > 0).all() and (x[:, 4].max((1, 2)) > 0.9).all()  # an object, and hands marked
    xa, _ = batch(views, np.arange(4), np.random.default_rng(0), augment=True)
    assert not np.allclose(xa, x)


def test_run_resumes_and_releases_a_loadable_segmenter(scenes, tmp_path):
    out = tmp_path / "run"
    args = ["--data", str(scenes), "--heldout", str(scenes), "--out", str(out), "--batch", "2", "--threads", "1",
            "--ckpt-every", "1"]
    assert train.main([*args, "--steps", "2"]) == 0
    first = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert int(first["step"]) == 2
    with pytest.raises(SystemExit, match="same"):  # another schedule cannot resume this one
        train.main([*args, "--steps", "3"])
    (out / "last.pt").unlink()
    assert train.main([*args, "--steps", "2"]) == 0  # afresh, the same seed: the same weights
    again = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert all(torch.equal(first["model"][k], again["model"][k]) for k in first["model"])
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [1, 2]
    assert train.main([*args, "--steps", "2"]) == 0  # rerun: resumes at its last step, nothing to add
    assert [int(r["step"]) for r in csv.DictReader((out / "log.csv").open())] == [1, 2]
    resumed = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert all(torch.equal(again["model"][k], resumed["model"][k]) for k in again["model"])
    model = tmp_path / "model"
    assert release.main(["--checkpoint", str(out / "best.pt"), "--out", str(model)]) == 0
    seg = ObjectSegmenter(model)  # ONNX Runtime, as live
    image = np.full((96, 96, 3), 100, np.uint8)
    person = np.zeros((96, 96), bool)
    person[20:80, 40:56] = True
    found = seg.segment(image, person, np.array([[58.0, 50.0]]))
    assert found.probability.shape == (96, 96) and np.isfinite(found.probability).all()


def test_a_fine_tune_starts_from_a_released_model_and_says_so(scenes, tmp_path):
    base = tmp_path / "base"
    args = ["--data", str(scenes), "--heldout", str(scenes), "--batch", "2", "--threads", "1", "--ckpt-every", "1"]
    assert train.main([*args, "--out", str(base), "--steps", "1", "--seed", "1"]) == 0  # not the tune's start
    released = tmp_path / "released"
    assert release.main(["--checkpoint", str(base / "best.pt"), "--out", str(released)]) == 0
    tuned = tmp_path / "tuned"
    # no step: the weights are the released model's (fp16 in the release, so compared at its precision)
    assert train.main([*args, "--out", str(tuned), "--steps", "1", "--lr", "1e-9", "--init", str(released)]) == 0
    a = torch.load(base / "last.pt", map_location="cpu", weights_only=True)["model"]
    b = torch.load(tuned / "last.pt", map_location="cpu", weights_only=True)
    weights = [k for k in a if a[k].is_floating_point() and "running" not in k]  # a step moves the norm statistics
    assert weights and all(torch.allclose(a[k].float(), b["model"][k].float(), atol=1e-2) for k in weights)
    assert json.loads(b["facts"])["init"] == str(released)
    again = tmp_path / "again"
    assert release.main(["--checkpoint", str(tuned / "best.pt"), "--out", str(again)]) == 0
    assert yaml.safe_load((again / "card.yaml").read_text())["training"]["init"] == str(released)


def test_evaluate_scores_a_checkpoint_as_its_release(scenes, tmp_path, capsys):
    from hoi_perception.objectmask.training import evaluate

    args = ["--data", str(scenes), "--heldout", str(scenes), "--batch", "2", "--threads", "1", "--ckpt-every", "1"]
    assert train.main([*args, "--out", str(tmp_path / "run"), "--steps", "1"]) == 0
    released = tmp_path / "released"
    assert release.main(["--checkpoint", str(tmp_path / "run" / "best.pt"), "--out", str(released)]) == 0
    capsys.readouterr()
    assert evaluate.main(["--model", f"{released},{tmp_path / 'run' / 'best.pt'}", "--heldout", str(scenes), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["models"]
    scores = [r["heldout_iou"][scenes.name] for r in rows]
    assert scores[0] == scores[1] and 0.0 <= scores[0] <= 1.0  # the checkpoint is scored as it would ship
