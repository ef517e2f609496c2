"""The object segmenter's prompt, its loading and run through a backend, and the order in which a
frame's object mask is chosen. The networks here are tiny untrained ones whose output bias is set,
so what they say is known."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from hoi_perception.frontend.interface import HandDetection, PersonDetection
from hoi_perception.objectmask.net import SegmenterNet
from hoi_perception.objectmask.prompt import SIZE, hand_heatmap, make_prompt, person_box, uncrop_mask
from hoi_perception.objectmask.segmenter import ObjectSegmenter, keep_large_parts
from hoi_perception.objectmask.sources import choose_object_mask, hand_points
from hoi_perception.pipeline.stages import ModelNotAvailable


def _model_dir(tmp_path, bias: float):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = SegmenterNet()
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.fill_(bias)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp_path / "model.safetensors"))
    (tmp_path / "card.yaml").write_text(yaml.safe_dump({"name": "objectmask", "weights_onnx": "model.onnx",
                                                        "weights_torch": "model.safetensors", "mask_level": 0.5}))
    return tmp_path


def _scene():
    image = np.full((240, 320, 3), 90, np.uint8)
    person = np.zeros((240, 320), bool)
    person[40:220, 140:180] = True
    return image, person


def test_prompt_crops_about_the_person_and_marks_the_hands():
    image, person = _scene()
    box = person_box(person)
    assert box == pytest.approx((160.0, 130.0, 180 * 1.6))
    prompt = make_prompt(image, person, np.array([[185.0, 120.0]]), box)
    assert prompt.inputs.shape == (5, SIZE, SIZE) and prompt.inputs.dtype == np.float32
    x, y = np.array([185.0, 120.0]) @ prompt.affine[:, :2].T + prompt.affine[:, 2]
    heat = prompt.inputs[4]
    assert heat[round(float(y)), round(float(x))] > 0.95 and heat.max() <= 1.0 and heat[5, 5] < 1e-3
    assert prompt.inputs[3].sum() > 0 and person_box(np.zeros_like(person)) is None
    back = uncrop_mask(prompt.inputs[3], prompt.affine, image.shape)  # the person channel maps back onto the person
    assert ((back > 0.5) == person).mean() > 0.99
    assert hand_heatmap(np.array([[np.nan, 3.0]])).max() == 0.0


def test_segmenter_runs_and_says_when_it_finds_nothing(tmp_path):
    image, person = _scene()
    pts = np.array([[185.0, 120.0]])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    everything = ObjectSegmenter(_model_dir(tmp_path / "a", 10.0), backend="torch").segment(image, person, pts)
    # the whole crop (288 px about x 160: columns 16-303, every row; its edge blurred) and nothing outside it
    assert everything.mask is not None and everything.mask[:, 18:302].all() and not everything.mask[:, :15].any()
    nothing = ObjectSegmenter(_model_dir(tmp_path / "b", -10.0), backend="torch").segment(image, person, pts)
    assert nothing.mask is None and "no object" in nothing.reason


def test_missing_or_truncated_segmenter_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotAvailable, match="train one"):
        ObjectSegmenter(tmp_path)
    d = _model_dir(tmp_path, 0.0)
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelNotAvailable, match="cannot be read"):
        ObjectSegmenter(d, backend="torch")


def test_small_specks_are_dropped():
    m = np.zeros((50, 50), bool)
    m[5:25, 5:25] = True
    m[40, 40] = True
    kept = keep_large_parts(m, 10)
    assert kept[10, 10] and not kept[40, 40]


def test_mask_order_given_then_depth_then_segmenter(tmp_path):
    image, person = _scene()
    pts = np.array([[185.0, 120.0]])
    given = np.zeros_like(person)
    given[100:140, 180:220] = True
    seg = ObjectSegmenter(_model_dir(tmp_path, 10.0), backend="torch")
    depth = np.full(person.shape, 3.0, np.float32)  # a wall behind
    depth[person] = 1.5
    depth[100:140, 181:220] = 1.45  # a box at the hand
    assert choose_object_mask(image, given, depth, person, pts, seg).source == "given"
    from_depth = choose_object_mask(image, None, depth, person, pts, seg)
    assert from_depth.source == "depth" and (from_depth.mask & given).sum() > 0.8 * given.sum()
    no_box = np.where(depth == 1.45, 3.0, depth).astype(np.float32)
    fallback = choose_object_mask(image, None, no_box, person, pts, seg)
    assert fallback.source == "segmenter" and "depth:" not in fallback.reason and 0.99 < fallback.confidence <= 1.0
    none = choose_object_mask(image, None, no_box, person, pts, None)
    assert none.mask is None and "depth:" in none.reason and "no object segmenter" in none.reason


def test_hand_points_come_from_hands_and_sure_body_landmarks():
    names = ("left_wrist", "right_wrist", "nose")
    person = PersonDetection(names, np.array([[10.0, 20.0], [30.0, 40.0], [0.0, 0.0]]), np.array([0.9, 0.1, 1.0]),
                             None, None, np.array([0, 0, 50, 50.0]), 1.0)
    hand = HandDetection(np.full((21, 2), 5.0), None, "left", 0.9, np.array([0, 0, 9, 9.0]))
    pts = hand_points(person, [hand])
    assert len(pts) == 22 and [10.0, 20.0] in pts.tolist() and [30.0, 40.0] not in pts.tolist()
