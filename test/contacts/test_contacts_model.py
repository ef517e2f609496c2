"""The shipped contact model: it loads, scores every vertex in [0, 1], runs class-agnostic for a kind it
does not know and says so, refuses an object without a template and a truncated weights file, and ONNX
Runtime gives what torch gives."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from hoi_perception.contacts.model import ContactModel, ContactsUnavailable, joints_in_crop, recentre
from hoi_perception.paths import models_dir

MODEL = models_dir() / "contacts"
needs_model = pytest.mark.skipif(not (MODEL / "model.safetensors").is_file(), reason="no shipped contact model")


INTRINSICS = np.array([150.0, 150.0, 48.0, 48.0], np.float32) / 96  # of the crop, over its size


def inputs(seed: int = 0):
    """A crop (person and object masks) and a posed body and object 2 m ahead (camera frame)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(5, 96, 96)).astype(np.float32)
    image[3:] = 0.0
    image[3, 20:80, 35:60] = 1.0  # a person
    image[4, 40:55, 55:70] = 1.0  # an object at the hand
    centre = np.array([0.0, 0.0, 2.0])
    body = centre + rng.normal(0, 0.3, (13718, 3)) * [0.3, 1.0, 0.1]
    posed = (body[:22].copy(), body[22:64].reshape(2, 21, 3).copy(), body,
             centre + [0.15, 0.0, 0.0] + rng.normal(0, 0.05, (64, 3)))
    return image, posed


@pytest.fixture(scope="module")
def model():
    return ContactModel(MODEL)


@pytest.fixture(scope="module")
def mug():
    from hoi_perception.assets import object_library

    return object_library().get("025_mug")


@needs_model
def test_scores_every_vertex(model, mug):
    image, posed = inputs()
    r = model.predict(image, INTRINSICS, *posed, mug.id, mug.surface_points, mug.subset_vertices)
    assert r.body.shape == (13718,) and r.object.shape == (64,)
    assert 0.0 <= r.body.min() and r.body.max() <= 1.0 and np.isfinite(r.object).all()
    assert r.kind == "mug" and not r.class_agnostic and r.note == ""


@needs_model
def test_unknown_kind_runs_class_agnostic_and_says_so(model, mug):
    image, posed = inputs()
    r = model.predict(image, INTRINSICS, *posed, "my_thing", mug.surface_points, mug.subset_vertices)
    assert r.class_agnostic and r.kind is None and "class-agnostic" in r.note
    k = model.predict(image, INTRINSICS, *posed, mug.id, kind="drill")
    assert k.class_agnostic and "'drill' unknown" in k.note


@needs_model
def test_no_template_no_contacts(model):
    image, posed = inputs()
    with pytest.raises(ContactsUnavailable, match="no template"):
        model.predict(image, INTRINSICS, *posed, "never_seen_object")


@needs_model
def test_bad_inputs_are_refused(model, mug):
    image, posed = inputs()
    with pytest.raises(ValueError, match="crop"):
        model.predict(image[:, :50], INTRINSICS, *posed, mug.id, mug.surface_points, mug.subset_vertices)
    posed[2][3] = np.nan
    with pytest.raises(ValueError, match="body vertices"):
        model.predict(image, INTRINSICS, *posed, mug.id, mug.surface_points, mug.subset_vertices)


@needs_model
def test_truncated_weights_are_refused(tmp_path):
    shutil.copy(MODEL / "config.json", tmp_path / "config.json")
    data = (MODEL / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(ContactsUnavailable, match="unreadable"):
        ContactModel(tmp_path)
    with pytest.raises(ContactsUnavailable, match="missing"):
        ContactModel(tmp_path / "absent")


@needs_model
def test_onnxruntime_matches_torch(model, mug):
    if not (MODEL / "model.onnx").is_file():
        pytest.skip("no exported ONNX file")
    ort = ContactModel(MODEL, backend="onnxruntime")
    image, posed = inputs(1)
    a = model.predict(image, INTRINSICS, *posed, mug.id, mug.surface_points, mug.subset_vertices)
    b = ort.predict(image, INTRINSICS, *posed, mug.id, mug.surface_points, mug.subset_vertices)
    assert np.abs(a.body - b.body).max() < 1e-3 and np.abs(a.object - b.object).max() < 1e-3


def test_recentre_moves_the_threshold_to_one_half():
    p = np.array([0.0, 0.15, 0.3, 0.65, 1.0])
    q = recentre(p, 0.3)
    assert q.tolist() == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert np.all(np.diff(recentre(np.linspace(0, 1, 50), 0.7)) > 0)


def test_joints_in_crop_use_the_crop_intrinsics():
    intr = np.array([200.0, 200.0, 48.0, 48.0]) / 96  # fx, fy, cx, cy over the crop size
    j = np.zeros((22, 3))
    j[:, 2] = 2.0
    j[1] = [0.1, -0.2, 2.0]
    uv = joints_in_crop(j, np.tile(j[:1], (2, 21, 1)), intr, 96)
    assert uv.shape == (64, 2) and uv[0] == pytest.approx([48.0, 48.0]) and uv[1] == pytest.approx([58.0, 28.0])
