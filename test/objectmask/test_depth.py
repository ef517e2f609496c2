"""The object mask from depth: the surface touching the hands, without the person or a supporting plane."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from hoi_perception.objectmask.depth import _surface_components, object_mask_from_depth
from hoi_perception.pipeline.types import InputError

H, W = 240, 320
WALL_M = 3.0


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _held_box_scene(noise_m: float = 0.001):
    """A wall far behind, a person at 1.5 m with an arm reaching right, a box at 1.45 m held at the hand."""
    depth = np.full((H, W), WALL_M)
    person = np.zeros((H, W), bool)
    person[20:240, 150:210] = True  # body
    person[120:136, 210:230] = True  # arm and hand
    depth[person] = 1.5
    box = np.zeros((H, W), bool)
    box[100:150, 230:270] = True
    depth[box] = 1.45
    depth += np.random.default_rng(1).normal(0.0, noise_m, depth.shape)
    return depth, person, box, np.array([[226.0, 128.0]])


def _table_depth() -> np.ndarray:
    """Depth of a table plane over rows 100-239: 2 m at its far edge, 1 m at the bottom of the image
    (the inverse depth of a plane is affine in pixel coordinates)."""
    rows = np.arange(H, dtype=np.float64)[:, None]
    return np.broadcast_to(1.0 / (0.5 + 0.5 * (rows - 100) / 139), (H, W)).copy()


def _box_on_table_scene(with_box: bool = True):
    """A wall behind a table; a box stands on the table (its front face meets the table at row 200, depth-
    continuous with it); a person at the right reaches the box's right side with an arm."""
    table_depth = _table_depth()
    depth = np.full((H, W), WALL_M)
    table = np.zeros((H, W), bool)
    table[100:, :] = True
    depth[table] = table_depth[table]
    box = np.zeros((H, W), bool)
    contact_depth = table_depth[200, 0]
    if with_box:
        box[150:201, 150:200] = True
        depth[box] = contact_depth
    person = np.zeros((H, W), bool)
    person[20:240, 230:300] = True
    depth[person] = 1.6
    arm = np.zeros((H, W), bool)
    arm[160:176, 200:230] = True
    person |= arm
    # the hand is at the box's side, or without a box lies on the table
    depth[arm] = contact_depth if with_box else table_depth[arm] - 0.01
    depth += np.random.default_rng(2).normal(0.0, 0.001, depth.shape)
    return depth, person, box, table & ~box & ~person, np.array([[206.0, 168.0], [212.0, 166.0]])


@pytest.mark.parametrize("mask_error_px", [0, -1, 2])
def test_held_box_is_recovered_without_person_or_background(mask_error_px):
    depth, person, box, seeds = _held_box_scene()
    # the front end's mask is a little too small or too large at its border
    grow = np.ones((2 * abs(mask_error_px) + 1,) * 2, np.uint8)
    if mask_error_px > 0:
        person_mask = cv2.dilate(person.astype(np.uint8), grow).astype(bool)
    elif mask_error_px < 0:
        person_mask = cv2.erode(person.astype(np.uint8), grow).astype(bool)
    else:
        person_mask = person
    result = object_mask_from_depth(depth, person_mask, seeds)
    assert result.mask is not None, result.reason
    assert result.mask.shape == (H, W) and result.mask.dtype == bool
    assert _iou(result.mask, box) > 0.8
    assert not (result.mask & person).any()
    assert not (result.mask & (depth > 2.0)).any()  # no wall
    assert result.reason.startswith("object from depth:") and "1.4" in result.reason


@pytest.mark.parametrize("frame_unknown", [False, True])
def test_table_supporting_the_object_is_removed(frame_unknown):
    depth, person, box, table, seeds = _box_on_table_scene()
    if frame_unknown:  # the table no longer reaches the image border: found as a support by the box resting on it
        depth[:4, :] = depth[-4:, :] = depth[:, :4] = depth[:, -4:] = 0.0
    result = object_mask_from_depth(depth, person, seeds)
    assert result.mask is not None, result.reason
    assert _iou(result.mask, box) > 0.6
    assert (result.mask & table).sum() <= 0.05 * result.mask.sum()
    assert not (result.mask & person).any()
    assert "supporting plane" in result.reason


def test_table_scene_is_depth_continuous():
    """The box and the table are one surface for region growing: only the plane removal parts them."""
    depth, person, _, _, _ = _box_on_table_scene()
    labels = _surface_components(depth, ~person, 0.02)
    assert labels[175, 175] == labels[230, 20] == labels[120, 20]  # the box, the table near and far
    assert labels[175, 175] != labels[50, 20]  # not the wall


def test_hand_on_a_table_alone_gives_no_object():
    depth, person, _, _, seeds = _box_on_table_scene(with_box=False)
    result = object_mask_from_depth(depth, person, seeds)
    assert result.mask is None
    assert "supporting surface" in result.reason


def test_hand_without_object_gives_none():
    depth, person, box, seeds = _held_box_scene()
    depth[box] = WALL_M  # nothing held: only the wall far behind
    result = object_mask_from_depth(depth, person, seeds)
    assert result.mask is None
    assert "no surface" in result.reason


def test_depth_of_another_size_raises_with_both_sizes():
    depth, person, _, seeds = _held_box_scene()
    with pytest.raises(InputError, match="another size") as error:
        object_mask_from_depth(depth[::2, ::2], person, seeds)
    assert "160x120" in str(error.value) and "320x240" in str(error.value)
    with pytest.raises(InputError, match="2-D"):
        object_mask_from_depth(np.stack([depth, depth]), person, seeds)


def test_all_zero_depth_gives_none():
    _, person, _, seeds = _held_box_scene()
    result = object_mask_from_depth(np.zeros((H, W)), person, seeds)
    assert result.mask is None and "no valid depth" in result.reason


def test_nan_seeds_are_ignored():
    depth, person, _, seeds = _held_box_scene()
    reference = object_mask_from_depth(depth, person, seeds).mask
    with_nan = np.vstack([[np.nan, 50.0], seeds, [np.nan, np.nan]])
    result = object_mask_from_depth(depth, person, with_nan)
    assert result.mask is not None and np.array_equal(result.mask, reference)
    only_nan = object_mask_from_depth(depth, person, np.full((2, 2), np.nan))
    assert only_nan.mask is None and "no usable seed" in only_nan.reason


def test_unknown_depth_is_never_in_the_mask():
    depth, person, box, seeds = _held_box_scene()
    unknown = np.zeros((H, W), bool)
    unknown[110:115, 235:265] = True  # a stripe of holes across the box
    unknown[130, 240:250] = True
    depth[unknown] = np.nan
    depth[140, 240:245] = np.inf
    depth[141, 240:245] = -1.0
    depth[142, 240:245] = 0.0
    result = object_mask_from_depth(depth, person, seeds)
    assert result.mask is not None, result.reason
    assert not (result.mask & ~(np.isfinite(depth) & (depth > 0))).any()
    assert _iou(result.mask, box & np.isfinite(depth) & (depth > 0)) > 0.8
    assert result.mask[145, 250] and result.mask[105, 250]  # on both sides of the stripe


def test_small_region_gives_none():
    depth, person, _, seeds = _held_box_scene()
    depth[depth < 1.48] = WALL_M
    depth[126:131, 232:237] = 1.45  # a 5 x 5 px object beside the hand
    result = object_mask_from_depth(depth, person, seeds, min_pixels=50)
    assert result.mask is None and "too small" in result.reason and "25 px" in result.reason
    assert object_mask_from_depth(depth, person, seeds, min_pixels=20).mask.sum() == 25
