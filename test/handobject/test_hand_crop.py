"""The hand-object network's window: on the hands, sized like the training renders, inside the image,
smooth from frame to frame, still without a hand."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.handobject.hand_crop import HAND_SHARE, HandCrop, Window, centre_window, hands_window, place
from hoi_perception.handobject.infer import crop_square, crop_square_depth
from hoi_perception.pipeline.types import CameraIntrinsics


def _hand(cx: float, cy: float, span: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    pts = rng.uniform(-0.5, 0.5, (21, 2)) * span
    pts[0], pts[1] = (-0.5 * span, -0.5 * span), (0.5 * span, 0.5 * span)  # the span exactly
    return pts + (cx, cy)


def test_window_is_centred_on_the_hand_and_sized_like_training():
    centre, side = hands_window([_hand(500, 300, 70)], (720, 1280))
    assert np.allclose(centre, (500, 300)) and side == pytest.approx(70 / HAND_SHARE)
    win = place(centre, side, (720, 1280))
    assert win.side == round(70 / HAND_SHARE) and abs(win.x0 + win.side / 2 - 500) <= 1


def test_two_hands_are_both_held_and_the_window_stays_inside_the_image():
    centre, side = hands_window([_hand(300, 300, 60), _hand(700, 320, 60)], (720, 1280))
    assert side >= 1.3 * 460 and 480 < centre[0] < 520  # both hands' joints with a margin, between them
    win = place(np.array([20.0, 700.0]), 300, (720, 1280))  # asked to hang off the corner
    assert (win.x0, win.y0, win.side) == (0, 420, 300)
    assert place(np.array([640.0, 360.0]), 5000, (720, 1280)) == centre_window((720, 1280))
    assert hands_window([np.full((21, 2), np.nan)], (720, 1280)) is None and hands_window([], (720, 1280)) is None


def test_stream_window_moves_smoothly_and_holds_without_hands():
    crop = HandCrop(smoothing=0.5)
    shape = (720, 1280)
    assert crop.update([], shape) == centre_window(shape) and not crop.following
    first = crop.update([_hand(400, 360, 80)], shape)
    assert abs(first.x0 + first.side / 2 - 400) <= 1
    moved = crop.update([_hand(600, 360, 80)], shape)
    assert abs(moved.x0 + moved.side / 2 - 500) <= 1  # half way: no jump
    assert crop.update([], shape) == moved  # no hand this frame: the window stays
    assert crop.update([_hand(600, 360, 80)], (480, 640)) != moved  # another camera: starts afresh


def test_crop_keeps_the_camera_model_of_the_window():
    k = CameraIntrinsics(600.0, 600.0, 640.0, 360.0, 1280, 720)
    image = np.zeros((720, 1280, 3), np.uint8)
    image[300:340, 500:540] = 255  # a bright square at x 500-539, y 300-339
    win = Window(420, 240, 200)
    img, kk = crop_square(image, k, size=100, window=win)
    ys, xs = np.nonzero(img[..., 0] > 127)
    # the square's centre (519.5, 319.5) seen through the crop's camera: the same ray
    point = np.array([(519.5 - 640.0) / 600.0, (319.5 - 360.0) / 600.0, 1.0])
    uv = kk @ point
    assert uv[0] / uv[2] == pytest.approx(xs.mean(), abs=0.6) and uv[1] / uv[2] == pytest.approx(ys.mean(), abs=0.6)
    depth = np.full((720, 1280), 2.0, np.float32)
    depth[300:340, 500:540] = 0.5
    assert np.nanmin(crop_square_depth(depth, size=100, window=win)) == pytest.approx(0.5)
