"""The spatial prior in the full-body pipeline: it moves the object only along the camera's rays (the
same image), says when it is off and why, and a card that asks for a missing prior refuses to load."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.paths import models_dir, shared_data_dir
from hoi_perception.pipeline.stages import ModelNotAvailable, load_reconstructor
from hoi_perception.pipeline.types import Frame

pytestmark = pytest.mark.skipif(not (models_dir() / "spatialprior" / "config.json").is_file()
                                or not (models_dir() / "fullbody" / "model_card.yaml").is_file()
                                or not (shared_data_dir() / "images" / "hoi_noncommercial").is_dir(),
                                reason="no shipped full-body model or spatial prior, or no shared photos")
pytest.importorskip("mediapipe")


def test_prior_moves_the_object_along_the_rays_only(real_photo):
    rgb, obj, k = real_photo("coco_hdm/017450", 60.0)  # a basketball player: sphere, a kind the prior knows
    frame = Frame(rgb, 5, "camera", k, masks=obj[None])
    without = load_reconstructor("fullbody", "fullbody", frontend_mode="image", spatial_prior=False,
                                 object_class="proc_sphere_0_0").reconstruct(frame)
    recon = load_reconstructor("fullbody", "fullbody", frontend_mode="image", spatial_prior=True,
                               object_class="proc_sphere_0_0")
    with_prior = recon.reconstruct(frame)
    a, b = without.objects[0].pose.position, with_prior.objects[0].pose.position
    f = np.linalg.norm(b) / np.linalg.norm(a)
    assert np.allclose(b, f * a, atol=1e-6)  # the centre slid along its ray
    assert np.allclose(with_prior.objects[0].pose.orientation, without.objects[0].pose.orientation, atol=1e-6)
    assert 0.6 < f < 1.5 and np.isfinite(b).all()


def test_prior_off_for_an_unseen_kind_says_why(caplog, real_photo):
    rgb, obj, k = real_photo("coco_hdm/017450", 60.0)
    recon = load_reconstructor("fullbody", "fullbody", frontend_mode="image", spatial_prior=True,
                               object_class="035_power_drill")
    with caplog.at_level("INFO", logger="hoi_perception.fullbody"):
        res = recon.reconstruct(Frame(rgb, 5, "camera", k, masks=obj[None]))
    assert np.isfinite(res.objects[0].pose.position).all()
    assert any("spatial prior off" in r.message and "never saw a drill" in r.message for r in caplog.records)


def test_missing_prior_refuses_to_load(tmp_path):
    with pytest.raises(ModelNotAvailable, match="spatial prior"):
        load_reconstructor("fullbody", "fullbody", frontend_mode="image", spatial_prior=True,
                           spatial_prior_dir=str(tmp_path))
