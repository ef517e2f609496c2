"""bench handobject --baseline: per-clip paired differences between two models on the same clips."""
import json

import pytest

from hoi_perception.benchmarks import handobject as bench


def test_paired_uses_the_clips_both_models_reconstructed():
    rows = {0: dict.fromkeys(bench.PAIRED_KEYS, 1.0), 1: dict.fromkeys(bench.PAIRED_KEYS, 3.0)}
    base = {0: dict.fromkeys(bench.PAIRED_KEYS, 0.0), 1: dict.fromkeys(bench.PAIRED_KEYS, 1.0),
            2: dict.fromkeys(bench.PAIRED_KEYS, 9.0)}  # clip 2 failed for the model: not paired
    d = bench.paired(rows, base)
    assert d["n"] == 2
    assert d["f10"]["mean"] == pytest.approx(1.5)  # differences 1 and 2
    assert d["f10"]["sem"] == pytest.approx(0.5)  # std 0.707 / sqrt(2)
    assert bench.paired({0: rows[0]}, base) == {"n": 1}  # one clip in common: no standard error


def test_shipped_model_against_itself_differs_by_nothing(engine_dataset, capsys):
    data = engine_dataset("hand", 2, 5, 128, frames=2)
    assert bench.main(["--data", str(data), "--frames", "2", "--baseline", "handobject", "--ceiling", "--json"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed.strip().splitlines()[-1])
    # a training-split set is labelled as such, not as held-out objects
    assert summary["note"] == bench.TRAIN_NOTE and "held-out" not in printed
    # two different hand figures (placement + articulation, articulation alone); neither bounds the other
    # on two clips, so only that both are reported (metrics.mpjpe's translation invariance is tested there)
    assert all(0 < summary[k] < 1e4 for k in ("hand_mpjpe_wrist_mm", "hand_mpjpe_mm"))
    assert summary["hand_mpjpe_wrist_mm"] != summary["hand_mpjpe_mm"]
    assert all(0 <= summary[f"mask_iou_{c}"] <= 1 for c in ("amodal", "visible", "hand"))
    # the engine's own occupancy target scores near perfectly through the same extraction: the 5 mm grid
    # does not limit the shape figures (a wrong object frame or scale in the ceiling would)
    assert summary["ceiling"]["f10"] > 0.95 and summary["ceiling"]["f5"] > 0.8
    assert sum(g["clips"] for g in summary["by_family"].values()) == summary["clips"]
    diff = summary["minus_baseline"]
    assert diff["n"] == summary["clips"] == 2 and diff["baseline_failed"] == 0
    for k in bench.PAIRED_KEYS:
        assert diff[k]["mean"] == 0.0 and diff[k]["sem"] == 0.0, k


def test_object_families():
    from hoi_perception.handobject.training.evaluate import object_family

    assert object_family("proc_box_0_6") == "proc_box"
    assert object_family("proc_superquadric_12_3") == "proc_superquadric"
    assert object_family("025_mug") == "025_mug"


def test_heldout_split_is_labelled_held_out(tmp_path):
    from hoi_perception.synth.shards import FORMAT, FORMAT_VERSION

    for split, note in (("heldout", bench.HELDOUT_NOTE), ("train", bench.TRAIN_NOTE)):
        root = tmp_path / split
        root.mkdir()
        (root / "manifest.json").write_text(json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION,
                                                        "params": {"split": split}}))
        assert bench.split_note(root)[1] == note
