"""The contact model in the full-body pipeline: the published contacts are its own, the anchor moves the
object only along the camera's rays, a kind it does not know runs class-agnostic and says so, and a card
that asks for a missing model refuses to load."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.paths import models_dir, shared_data_dir
from hoi_perception.pipeline.stages import ModelNotAvailable, load_reconstructor
from hoi_perception.pipeline.types import Frame

pytestmark = pytest.mark.skipif(not (models_dir() / "contacts" / "model.safetensors").is_file()
                                or not (models_dir() / "fullbody" / "model_card.yaml").is_file()
                                or not (shared_data_dir() / "images" / "hoi_noncommercial").is_dir(),
                                reason="no shipped full-body or contact model, or no shared photos")
pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def frame(real_photo):
    rgb, obj, k = real_photo("coco_hdm/017450", 60.0)  # a basketball player holding the ball
    return Frame(rgb, 5, "camera", k, masks=obj[None])


def run(frame, object_class="proc_sphere_0_0", **options):
    recon = load_reconstructor("fullbody", "fullbody", frontend_mode="image", object_class=object_class, **options)
    return recon, recon.reconstruct(frame)


def test_contacts_come_from_the_model_and_anchor_along_the_rays(frame):
    _, head = run(frame, contact_model=False)
    recon, model = run(frame, contact_model=True)
    body, obj = model.bodies[0], model.objects[0]
    assert body.vertex_contact.shape == (13718,) and obj.vertex_contact.shape == (64,)
    assert not np.allclose(body.vertex_contact, head.bodies[0].vertex_contact)
    assert np.allclose(body.vertices, head.bodies[0].vertices)  # the contacts do not move the body
    a, b = head.objects[0].pose.position, obj.pose.position
    assert np.allclose(b, (np.linalg.norm(b) / np.linalg.norm(a)) * a, atol=1e-6)  # same ray
    assert np.allclose(obj.pose.orientation, head.objects[0].pose.orientation, atol=1e-6)
    assert recon.infer.contact_model is not None


def test_unknown_kind_is_class_agnostic_and_said(frame, caplog):
    with caplog.at_level("INFO", logger="hoi_perception.fullbody"):
        _, res = run(frame, object_class="035_power_drill", contact_model=True)
    assert res.bodies[0].vertex_contact.shape == (13718,)
    assert any("'drill' unknown to the contact model" in r.message for r in caplog.records)


def test_missing_contact_model_refuses_to_load(tmp_path):
    with pytest.raises(ModelNotAvailable, match="contact model"):
        load_reconstructor("fullbody", "fullbody", frontend_mode="image", contact_model=True,
                           contact_model_dir=str(tmp_path))
