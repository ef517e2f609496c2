"""bench fullbody: per-scene paired differences (cross - single, model - --baseline)."""
import json

import numpy as np
import pytest

from hoi_perception.benchmarks import fullbody as bench
from hoi_perception.paths import models_dir
from hoi_perception.synth.shards import FORMAT, FORMAT_VERSION


def test_paired_by_scene_splits_off_the_occluded_scenes():
    # columns: CD_human, CD_object, P, R, occlusion
    a = np.array([[5.0, 8.0, 0.9, 0.8, 0.0], [4.0, 6.0, 0.8, 0.7, 0.5], [6.0, 9.0, 0.7, 0.6, 0.6]])
    b = a.copy()
    b[:, 0] -= [1.0, 2.0, 3.0]
    d = bench.paired_by_scene(a, b)
    assert d["all"]["n"] == 3 and d["occluded"]["n"] == 2
    assert d["all"]["cd_human_cm"]["mean"] == pytest.approx(2.0)
    assert d["all"]["cd_human_cm"]["sem"] == pytest.approx(1.0 / np.sqrt(3))
    assert d["occluded"]["cd_human_cm"]["mean"] == pytest.approx(2.5)
    assert d["all"]["cd_object_cm"]["mean"] == 0.0


def test_shipped_model_against_itself_as_baseline(engine_dataset, capsys):
    data = engine_dataset("fullbody", 3, 21, 128)
    shipped = models_dir() / "fullbody"
    assert bench.main(["--data", str(data), "--model", str(shipped), "--baseline", str(shipped),
                       "--no-latency", "--json"]) == 0
    printed = capsys.readouterr().out
    results = json.loads(printed.strip().splitlines()[-1])
    # a training-split set is labelled as such, not as held-out data
    assert results["note"] == bench.TRAIN_NOTE and "held-out" not in printed
    diff = results["minus_baseline"]["all"]
    assert diff["n"] == results["scenes"] >= 2
    for m in bench.METRICS:
        assert diff[m]["mean"] == 0.0 and diff[m]["sem"] == 0.0, m


def test_heldout_split_is_labelled_held_out(tmp_path):
    for split, note in (("heldout", bench.NOTE), ("train", bench.TRAIN_NOTE)):
        root = tmp_path / split
        root.mkdir()
        (root / "manifest.json").write_text(json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "params": {"split": split}}))
        assert bench.data_note(root) == note


def test_contact_summary_splits_off_the_scenes_with_hidden_contacts():
    # columns: CD_human, CD_object, P, R, occlusion, contact F1, contact AP, share of the contacts hidden
    a = np.array([[5.0, 8.0, 0.9, 0.8, 0.0, 0.80, 0.90, 0.95],
                  [4.0, 6.0, 0.8, 0.7, 0.5, 0.70, 0.80, 0.20],
                  [6.0, 9.0, 0.7, 0.6, 0.6, 0.60, 0.70, 0.99],
                  [6.0, 9.0, 0.7, 0.6, 0.1, 0.60, np.nan, np.nan]])  # no true contact: left out
    b = a.copy()
    b[:, 5] -= [0.1, 0.3, 0.2, 0.0]
    d = bench.paired_contact_summary(a, b)
    assert d["all"]["n"] == 3 and d["occluded"]["n"] == 2 and d["contacts hidden"]["n"] == 2
    assert d["contacts hidden"]["contact_f1"]["mean"] == pytest.approx(0.15)
    assert d["all"]["contact_f1"]["mean"] == pytest.approx(0.2)
