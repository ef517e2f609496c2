"""The full-body training CLI on real engine scenes: warm start from released weights, the cosine
schedule, resume, and scenes the network cannot take being left out of the data."""
from __future__ import annotations

import csv

import pytest
import torch

from hoi_perception.fullbody.model import CrossHOI, ModelConfig
from hoi_perception.fullbody.training import data as fb_data
from hoi_perception.fullbody.training import train
from hoi_perception.fullbody.training.release import save_weights
from hoi_perception.pipeline.types import InputError


@pytest.fixture(scope="module")
def scenes(engine_dataset):
    return engine_dataset("fullbody", 2, 11, 128)


def _cli_config() -> ModelConfig:
    # what train.main builds with its defaults
    return ModelConfig(crop=96, width=48, heads=4, kv_tokens=32, vdim=48, hidden=256,
                       n_classes=len(fb_data.train_classes()), cross_view=True)


def test_warm_start_from_safetensors_cosine_schedule_and_resume(scenes, tmp_path):
    torch.manual_seed(0)
    released = tmp_path / "model.safetensors"
    save_weights(CrossHOI(_cli_config()), released)
    run = tmp_path / "run"
    common = ["--data", str(scenes), "--out", str(run), "--batch", "2", "--schedule", "cosine",
              "--warmup", "2", "--lr", "1e-3", "--init", str(released)]
    assert train.main(common + ["--steps", "0"]) == 0
    from safetensors.torch import load_file

    ref = load_file(str(released))
    st = train.load_checkpoint(run / "ckpt.pt")["model"]
    assert set(ref) <= set(st)
    assert all(torch.equal(st[k], ref[k].float()) for k in ref if ref[k].is_floating_point())
    run2 = tmp_path / "run2"
    common[3] = str(run2)
    assert train.main(common + ["--steps", "3"]) == 0
    assert train.main(common + ["--steps", "4"]) == 0  # resumes at step 3
    assert int(train.load_checkpoint(run2 / "ckpt.pt")["step"]) == 4
    rows = list(csv.DictReader((run2 / "log.csv").open()))
    lr = {int(r["step"]): float(r["lr"]) for r in rows}
    # the logged lr is the one of the step just taken (step s used cosine_lr(s - 1))
    assert lr[1] == pytest.approx(train.cosine_lr(0, 4, 1e-3, warmup=2), rel=1e-4)
    assert lr[1] < 1e-3


def test_scenes_the_network_cannot_take_are_left_out(scenes, monkeypatch):
    crop = fb_data._view_crop

    def refuse_first(a, v, size):
        if v == 0 and refuse_first.calls == 0:
            refuse_first.calls += 1
            raise InputError("human mask has 0 pixels inside the image (< 20): nothing to reconstruct")
        return crop(a, v, size)

    refuse_first.calls = 0
    monkeypatch.setattr(fb_data, "_view_crop", refuse_first)
    d = fb_data.load_scenes(scenes, 96)
    assert d["index"].tolist() == [1]
    assert d["meta"]["skipped"][0]["index"] == 0 and "human mask" in d["meta"]["skipped"][0]["why"]
    assert d["meta"]["count"] == 1 and d["image_0"].shape[0] == 1


def test_several_folders_are_concatenated(scenes):
    one = fb_data.load_scene_sets([scenes], 96)
    two = fb_data.load_scene_sets([scenes, scenes], 96)
    assert two["image_0"].shape[0] == 2 * one["image_0"].shape[0] == 4
    assert torch.equal(two["contact"][2:], one["contact"]) and two["object_id"] == one["object_id"] * 2
    assert two["meta"]["count"] == 4 and len(two["meta"]["sets"]) == 2
    assert two["meta"]["manifest_sha256"] != one["meta"]["manifest_sha256"]


def test_fp16_crops_are_the_rounded_fp32_crops(scenes):
    full = fb_data.load_scene_sets([scenes, scenes], 96)
    half = fb_data.load_scene_sets([scenes, scenes], 96, image_dtype=torch.float16)
    for k in ("image_0", "image_1"):
        assert half[k].dtype == torch.float16
        assert torch.equal(half[k], full[k].half())
    assert half["body_vertices"].dtype == torch.float32 and torch.equal(half["body_vertices"], full["body_vertices"])


def test_minutes_budget_stops_without_done_marker_and_resume_finishes(scenes, tmp_path, capsys):
    run = tmp_path / "run"
    common = ["--data", str(scenes), "--out", str(run), "--batch", "2", "--steps", "3"]
    # a budget spent before the first step: the run stops at once and says how to go on
    assert train.main(common + ["--minutes", "1e-9"]) == 0
    assert "stopped by the --minutes budget at step 0 of 3" in capsys.readouterr().out
    assert int(train.load_checkpoint(run / "ckpt.pt")["step"]) == 0 and not (run / "done.json").exists()
    assert train.main(common) == 0  # no budget by default: the same command finishes the run
    assert int(train.load_checkpoint(run / "ckpt.pt")["step"]) == 3 and (run / "done.json").exists()


def test_view_b_map_loss_trains_the_generator_only_and_leaves_batchnorm_statistics(scenes):
    torch.manual_seed(0)
    model = CrossHOI(ModelConfig.tiny(crop=96))
    d = fb_data.load_scene_sets([scenes], 96, with_view_b=True)
    b = fb_data.batch(d, torch.tensor([0, 1]))
    model.train()
    fa = model.backbone(b["image_0"].float())
    running = [t.clone() for n, t in model.backbone.state_dict().items() if "running" in n]
    m = train._view_b_map_loss(model, fa, b)
    assert model.backbone.training  # put back in training mode
    assert all(torch.equal(a, t) for a, t in zip(running, [t for n, t in model.backbone.state_dict().items()
                                                          if "running" in n]))
    assert set(m) == {"map", "mse", "cos"} and torch.isfinite(m["map"]) and -1.0 <= float(m["cos"]) <= 1.0
    m["map"].backward()
    assert all(p.grad is None for p in model.backbone.parameters())  # the target and F_A are detached
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.generator.parameters())


def test_map_weight_is_logged_in_recon_mode(scenes, tmp_path):
    run = tmp_path / "run"
    assert train.main(["--data", str(scenes), "--out", str(run), "--batch", "2", "--steps", "2",
                       "--map-weight", "1.0"]) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert rows and all(r["map"] not in ("", None) and float(r["map"]) > 0 for r in rows)
