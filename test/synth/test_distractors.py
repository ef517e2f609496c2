"""Clutter around a full-body scene: untouched objects on the floor, apart from the scene and from each
other, drawn from their own stream so the scene itself is unchanged, stored as background."""
import cv2
import numpy as np
import pytest

from hoi_perception.synth import engine
from hoi_perception.synth.distractors import CLEARANCE, place_distractors
from hoi_perception.synth.scenes import PlacedObject


def _footprint(obj: PlacedObject):
    xy = obj.to_world(obj.asset.vertices)[:, :2]
    c = 0.5 * (xy.min(0) + xy.max(0))
    return c, np.linalg.norm(xy - c, axis=1).max()


def test_distractors_stand_on_the_floor_apart_from_the_scene_and_each_other():
    draw = engine._object_source("train")
    person = np.random.default_rng(0).uniform([-0.3, -0.3, 0.0], [0.3, 0.3, 1.8], (500, 3))
    placed = place_distractors(np.random.default_rng(1), draw, person, 5)
    assert 1 <= len(placed) <= 5
    scene_c = 0.5 * (person[:, :2].min(0) + person[:, :2].max(0))
    scene_r = np.linalg.norm(person[:, :2] - scene_c, axis=1).max()
    feet = [_footprint(p) for p in placed]
    for p, (c, r) in zip(placed, feet):
        pts = p.to_world(p.asset.vertices)
        assert abs(pts[:, 2].min()) < 1e-6  # resting on the floor
        assert np.linalg.norm(c - scene_c) >= scene_r + r + CLEARANCE - 1e-6
    for i in range(len(feet)):
        for j in range(i):
            assert np.linalg.norm(feet[i][0] - feet[j][0]) >= feet[i][1] + feet[j][1] + CLEARANCE - 1e-6
    assert place_distractors(np.random.default_rng(1), draw, person, 0) == []
    with pytest.raises(ValueError, match="distractors"):
        place_distractors(np.random.default_rng(1), draw, person, 7)


def test_a_scene_with_distractors_is_the_same_scene_with_clutter_as_background():
    plain = engine.SampleMaker("train", 96, frames=2)
    busy = engine.SampleMaker("train", 96, frames=2, distractors=6)
    assert "distractors" not in plain.params() and busy.params()["distractors"] == 6
    # a seed whose scene gets some clutter in view
    for seed in range(40, 60):
        a, ma = plain("fullbody", seed)
        b, mb = busy("fullbody", seed)
        if mb["distractors"] and not np.array_equal(a["rgb_0"], b["rgb_0"]):
            break
    else:
        pytest.fail("no seed put a distractor in view")
    assert "distractors" not in ma and ma["object_id"] == mb["object_id"]
    for key in ("joints_2d", "object_pose", "body_vertices_subset", "body_contact_bits"):
        np.testing.assert_array_equal(a[key], b[key])  # the same scene and labels
    inst = cv2.imdecode(b["instance_0"], cv2.IMREAD_UNCHANGED)
    assert set(np.unique(inst)) <= {0, engine.BODY_ID, engine.LEFT_HAND_ID, engine.RIGHT_HAND_ID, engine.OBJECT_ID}
    with pytest.raises(ValueError, match="distractors"):
        engine.SampleMaker("train", 96, distractors=9)
