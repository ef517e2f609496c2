"""The shipped spatial prior: clear errors for missing or truncated files, reasons for objects it
cannot score, and on engine scenes it scores the true arrangement above the object moved away."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from hoi_perception.paths import models_dir
from hoi_perception.spatialprior.layout import ring_viewports
from hoi_perception.spatialprior.prior import Arrangement, PriorUnavailable, SpatialPrior, object_kind

SHIPPED = models_dir() / "spatialprior"
needs_model = pytest.mark.skipif(not (SHIPPED / "config.json").is_file(), reason="no shipped spatial prior")


def test_object_kinds():
    assert object_kind("proc_chair_0_3") == "chair"
    assert object_kind("025_mug") == "mug"
    assert object_kind("my_own_thing") is None


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(PriorUnavailable, match="missing"):
        SpatialPrior.load(tmp_path)
    if not (SHIPPED / "config.json").is_file():
        return
    shutil.copy(SHIPPED / "config.json", tmp_path / "config.json")
    data = (SHIPPED / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(PriorUnavailable, match="unreadable"):
        SpatialPrior.load(tmp_path)


@needs_model
def test_unavailable_reasons():
    prior = SpatialPrior.load(SHIPPED)
    assert prior.unavailable("proc_box_0_6", [0.2, 0.3, 0.4]) is None  # a held-out box: its kind was seen
    assert "never saw" in prior.unavailable("035_power_drill")
    assert "no kind" in prior.unavailable("user_object")
    assert "no template" in prior.unavailable(None)
    assert "degenerate" in prior.unavailable("proc_box_0_6", [0.2, np.nan, 0.4])


@pytest.fixture(scope="module")
def scenes():
    from hoi_perception.synth.engine import _object_source, _poser_factory
    from hoi_perception.synth.scenes import SceneSampler

    sampler = SceneSampler(_poser_factory, _object_source("heldout"), np.random.default_rng(11))
    return [sampler.sample() for _ in range(6)]


@needs_model
def test_true_arrangement_scores_above_the_object_moved(scenes):
    prior = SpatialPrior.load(SHIPPED)
    wins = 0
    for scene in scenes:
        obj = scene.obj
        kp = obj.to_world(obj.asset.keypoints)
        moved = [kp + d for d in (np.array([0.3, 0, 0]), np.array([0, 0.3, 0]), np.array([0, 0, 0.3]))]
        lp = prior.log_prob(Arrangement(torch.as_tensor(scene.joints), torch.as_tensor(np.stack([kp] + moved)),
                                        object_kind(obj.asset.id), obj.asset.extents), ring_viewports(8))
        assert torch.isfinite(lp).all()
        wins += int((lp[0] > lp[1:]).sum())
    assert wins >= 0.8 * 3 * len(scenes), f"the truth scored higher in only {wins} of {3 * len(scenes)} pairs"
