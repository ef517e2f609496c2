"""The mediapipe front end on real photos: people, masks, hands and their sides; nothing from noise."""
from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from hoi_perception.frontend import FrontEndUnavailable
from hoi_perception.frontend.factory import make_frontend
from hoi_perception.paths import shared_data_dir

REAL = shared_data_dir() / "images" / "hoi_noncommercial"
BEHAVE = REAL / "behave_frames_contho"
pytest.importorskip("mediapipe")


def _rgb(path) -> np.ndarray:
    return np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])


def _mask(path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) > 127


@pytest.fixture(scope="module")
def photos():
    fe = make_frontend(mode="image")
    yield fe
    fe.close()


def test_person_on_a_real_frame_lies_inside_its_true_mask(photos):
    rgb = _rgb(BEHAVE / "img" / "050507.jpg")
    truth = _mask(BEHAVE / "mask_h" / "050507.jpg")
    det = photos.detect(rgb)
    assert len(det.people) == 1
    p = det.people[0]
    assert p.keypoints.shape == (33, 2) and p.world.shape == (33, 3) and p.mask.shape == truth.shape
    seen = p.visibility > 0.5
    x, y = p.keypoints[seen].round().astype(int).T
    assert truth[y, x].mean() > 0.9
    mask = det.person_mask(0)
    assert (mask & truth).sum() / (mask | truth).sum() > 0.8
    x0, y0, x1, y1 = p.box
    assert x0 < x.min() and x1 > x.max() and y0 < y.min() and y1 > y.max()
    # world landmarks: metres about the hips, y down (head above the hips)
    assert abs(p.world[[23, 24]].mean(0)).max() < 0.05
    assert p.world[0, 1] < -0.3


def test_two_people_are_both_found_with_their_own_tracks(photos):
    det = photos.detect(_rgb(REAL / "coco_hdm" / "205904" / "k1.color.jpg"))
    assert len(det.people) == 2
    assert {p.track_id for p in det.people} == {0, 1}
    a, b = (p.box for p in det.people)
    assert min(a[2], b[2]) - max(a[0], b[0]) < 0.5 * min(a[2] - a[0], b[2] - b[0])  # side by side, not one twice


def test_hands_take_the_side_of_the_wrist_they_are_on(photos):
    det = photos.detect(_rgb(REAL / "coco_hdm" / "017450" / "k1.color.jpg"))
    assert len(det.hands) == 2
    assert sorted(h.side for h in det.hands) == ["left", "right"]
    for hand in det.hands:
        assert hand.side_from == "body" and hand.person == 0
        wrist = det.people[0].keypoints[15 if hand.side == "left" else 16]
        assert np.linalg.norm(hand.keypoints[0] - wrist) < hand.size_px
        assert hand.keypoints.shape == (21, 2) and hand.world.shape == (21, 3)


@pytest.mark.parametrize("image", [np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8),
                                   np.full((480, 640, 3), 128, np.uint8)], ids=["noise", "grey"])
def test_nothing_is_found_in_noise_or_a_blank_image(photos, image):
    det = photos.detect(image)
    assert det.people == [] and det.hands == []


def test_wrong_image_type_is_a_clear_error(photos):
    with pytest.raises(ValueError, match="uint8 RGB"):
        photos.detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="uint8 RGB"):
        photos.detect(np.zeros((64, 64, 3), np.float32))


def test_video_mode_keeps_the_track_id_and_reset_forgets_it():
    fe = make_frontend(mode="video", max_people=1)
    rgb = _rgb(BEHAVE / "img" / "050507.jpg")
    ids = [fe.detect(rgb).people[0].track_id for _ in range(3)]
    assert ids == [0, 0, 0]
    fe.detect(np.full_like(rgb, 128))  # the person leaves
    assert fe.detect(rgb).people[0].track_id == 1
    fe.reset()
    assert fe.detect(rgb).people[0].track_id == 0
    fe.close()


def test_unknown_front_end_and_missing_mediapipe_are_clear(monkeypatch):
    with pytest.raises(ValueError, match="unknown front end"):
        make_frontend("nosuch")
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import fails as if not installed
    with pytest.raises(FrontEndUnavailable, match="mediapipe==0.10.14"):
        make_frontend("mediapipe")
