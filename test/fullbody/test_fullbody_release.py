"""Packaging trained checkpoints as a model folder: the card records each network's own config, so a
baseline of another backbone width loads (and the benchmark scores both), and the inference setting."""
from __future__ import annotations

import json

import yaml

from hoi_perception.benchmarks import fullbody as bench
from hoi_perception.fullbody.training import release, train


def test_release_records_the_baseline_config_and_the_bench_reads_it(engine_dataset, tmp_path, capsys):
    scenes = engine_dataset("fullbody", 3, 21, 128)
    common = ["--data", str(scenes), "--batch", "2", "--steps", "1"]
    assert train.main(common + ["--out", str(tmp_path / "cross")]) == 0
    assert train.main(common + ["--out", str(tmp_path / "single"), "--single-view",
                                "--backbone-widths", "16", "32", "64"]) == 0
    out = tmp_path / "model"
    args = ["--cross", str(tmp_path / "cross" / "ckpt.pt"), "--single", str(tmp_path / "single" / "ckpt.pt"),
            "--data", str(scenes), "--out", str(out)]
    assert release.main(args + ["--flip-average", "yes"]) == 0
    card = yaml.safe_load((out / "model_card.yaml").read_text())
    assert card["flip_average"] is True and card["silhouette_fit"] is False
    assert release.main(args + ["--silhouette-fit", "yes"]) == 0
    assert release.main(args) == 0  # a re-release keeps the card's inference settings
    card = yaml.safe_load((out / "model_card.yaml").read_text())
    assert card["flip_average"] is True and card["silhouette_fit"] is True
    assert card["config"]["cross_view"] is True and card["config"]["backbone_widths"] is None
    assert card["baseline_config"]["cross_view"] is False and card["baseline_config"]["backbone_widths"] == [16, 32, 64]
    # the training record goes to provenance.yaml, which loading never reads
    provenance = yaml.safe_load((out / "provenance.yaml").read_text())
    assert "training" not in card and provenance["training"]["cross_view_steps"] == 1
    capsys.readouterr()
    assert bench.main(["--data", str(scenes), "--model", str(out), "--no-latency", "--json"]) == 0
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert results["scenes"] >= 2 and {"cross_view", "single_view"} <= set(results)
    assert 0.0 <= results["cross_view"]["contact_f1"] <= 1.0 and "cross_minus_single_contact" in results
    # scored as the card ships it (flip-averaged, object fitted), with the network's single pass and
    # the unfitted objects beside it
    assert results["flip_average"] is True and {"cross_view_one_pass", "flip_minus_one_pass"} <= set(results)
    assert results["cross_view"]["cd_human_cm"] != results["cross_view_one_pass"]["cd_human_cm"]
    assert results["silhouette_fit"] is True and {"cross_view_no_fit", "fit_minus_no_fit"} <= set(results)
    assert results["cross_view"]["cd_object_cm"] != results["cross_view_no_fit"]["cd_object_cm"]
