"""The full-body pipeline with the person from the front end: only the object mask given, the anny
body fitted to the detected person; the person the object belongs to is chosen; no person, no result."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from hoi_perception.frontend.interface import Detections, PersonDetection
from hoi_perception.fullbody.person import choose_person
from hoi_perception.metrics import mask_iou
from hoi_perception.paths import models_dir, shared_data_dir
from hoi_perception.pipeline.stages import load_reconstructor
from hoi_perception.pipeline.types import PART_LEFT_HAND, PART_RIGHT_HAND, CameraIntrinsics, Frame, InputError
from hoi_perception.raster import fill_triangles, pinhole_project

REAL = shared_data_dir() / "images" / "hoi_noncommercial"
needs_shipped = pytest.mark.skipif(not (models_dir() / "fullbody" / "model_card.yaml").is_file(),
                                   reason="no shipped fullbody model")
pytest.importorskip("mediapipe")


def _load(folder, hfov):
    rgb = np.ascontiguousarray(cv2.imread(str(folder / "k1.color.jpg"))[..., ::-1])
    person = cv2.imread(str(folder / "k1.person_mask.png"), cv2.IMREAD_GRAYSCALE)
    obj = cv2.imread(str(next(folder.glob("k1.obj*mask.*"))), cv2.IMREAD_GRAYSCALE)
    h, w = rgb.shape[:2]
    return rgb, person > 127, cv2.resize(obj, (w, h), interpolation=cv2.INTER_NEAREST) > 127, \
        CameraIntrinsics.from_fov(w, h, hfov)


@pytest.fixture(scope="module")
def recon():
    return load_reconstructor("fullbody", "fullbody", frontend_mode="image")


@needs_shipped
def test_only_the_object_mask_given_the_body_covers_the_person(recon):
    rgb, person, obj, k = _load(REAL / "coco_hdm" / "017450", 60.0)
    res = recon.reconstruct(Frame(rgb, 5, "camera", k, masks=obj[None]))
    body = res.bodies[0]
    h, w = person.shape
    sil = fill_triangles(pinhole_project(body.vertices, k.matrix, 1e-3)[recon.faces.astype(np.int64)], (h, w))
    assert mask_iou(sil, person) > 0.5
    net = load_reconstructor("fullbody", "fullbody", person_fit=False).reconstruct(
        Frame(rgb, 5, "camera", k, masks=np.stack([person, obj])))
    sil_net = fill_triangles(pinhole_project(net.bodies[0].vertices, k.matrix, 1e-3)[recon.faces.astype(np.int64)],
                             (h, w))
    assert mask_iou(sil, person) > mask_iou(sil_net, person) + 0.1  # the fit, not the network alone
    assert 0.0 < res.confidence <= 1.0 and body.confidence == res.confidence
    # both hands of the basketball player are found, each published on its own side
    hands = [b for b in res.bodies[1:]]
    assert sorted(b.part for b in hands) == [PART_LEFT_HAND, PART_RIGHT_HAND]
    assert {b.model_id for b in hands} == {"anny_body/hand_left", "anny_body/hand_right"}
    assert all(b.joints.shape == (21, 3) for b in hands)
    # the hands are the body's own: the same points as its published hand joints
    assert np.allclose(np.concatenate([b.joints for b in sorted(hands, key=lambda b: b.part)]), body.joints[22:])


@needs_shipped
def test_no_mask_at_all_the_object_mask_is_made_and_its_source_said(recon):
    """A plain camera image: the person from the front end, the object's mask from the segmenter (or
    depth, where the frame has it); each result says which. ``object_masks: given`` refuses the frame."""
    rgb, person, obj, k = _load(REAL / "coco_hdm" / "017450", 60.0)
    res = recon.reconstruct(Frame(rgb, 5, "camera", k))
    made = recon.last_object_mask
    assert res.objects[0].mask_source == "segmenter" == made.source and made.mask.shape == person.shape
    assert 0.5 <= made.confidence < 1.0 and res.objects[0].confidence <= made.confidence
    assert made.mask.any() and (made.mask & _near(person, 0.2)).sum() > 0.8 * made.mask.sum()  # at the person
    assert recon.reconstruct(Frame(rgb, 6, "camera", k, masks=obj[None])).objects[0].mask_source == "given"
    # a depth image: the surface at the hands; one of another size is a clear error
    h, w = person.shape
    with pytest.raises(InputError, match="depth is"):
        recon.reconstruct(Frame(rgb, 7, "camera", k, depth=np.ones((h // 2, w // 2), np.float32)))
    strict = load_reconstructor("fullbody", "fullbody", frontend_mode="image", object_masks="given")
    assert strict.segmenter is None
    with pytest.raises(InputError, match="needs instance masks"):
        strict.reconstruct(Frame(rgb, 5, "camera", k))


def _near(mask: np.ndarray, share: float) -> np.ndarray:
    """The mask grown by ``share`` of its box's longer side."""
    ys, xs = np.nonzero(mask)
    r = max(1, int(share * max(np.ptp(xs), np.ptp(ys))))
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0

@needs_shipped
def test_the_person_with_the_object_is_reconstructed_among_two(recon):
    rgb, person, obj, k = _load(REAL / "coco_hdm" / "205904", 60.0)
    res = recon.reconstruct(Frame(rgb, 0, "camera", k, masks=obj[None]))
    h, w = person.shape
    uv = pinhole_project(res.bodies[0].joints[:22], k.matrix, 1e-3).round().astype(int)
    ok = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    assert person[uv[ok, 1], uv[ok, 0]].mean() > 0.6  # on the man with the suitcase, not beside him


@needs_shipped
def test_no_person_no_result(recon):
    rng = np.random.default_rng(4)
    image = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    obj = np.zeros((240, 320), bool)
    obj[100:140, 150:200] = True
    with pytest.raises(InputError, match="no person"):
        recon.reconstruct(Frame(image, 0, "camera", CameraIntrinsics.from_fov(320, 240, 60.0), masks=obj[None]))
    with pytest.raises(InputError, match="no person"):  # no mask either: still no object made from nothing
        recon.reconstruct(Frame(image, 0, "camera", CameraIntrinsics.from_fov(320, 240, 60.0)))


def _person(box) -> PersonDetection:
    kp = np.array([[box[0], box[1]], [box[2], box[3]]], float)
    return PersonDetection(("a", "b"), kp, np.ones(2), None, None, np.asarray(box, float), 1.0)


def test_choice_prefers_the_person_touching_the_object_then_the_largest():
    det = Detections((100, 200), people=[_person([10, 10, 60, 90]), _person([120, 30, 150, 60])])
    obj = np.zeros((100, 200), bool)
    obj[40:50, 151:160] = True  # touching the small person's box
    assert choose_person(det, obj)[0] == 1
    far = np.zeros((100, 200), bool)
    far[0:5, 190:200] = True
    i, why = choose_person(det, far)
    assert i == 0 and "largest" in why
    assert choose_person(Detections((100, 200), people=[_person([0, 0, 5, 5])]), None) == (0, "the only person found")
