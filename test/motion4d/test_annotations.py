"""Annotations are validated with messages that name the pair, and saved atomically: a refused save
leaves the file as it was."""
from __future__ import annotations

import json

import pytest

from hoi_perception.motion4d import annotations as A


def _pair(**kw):
    p = {"id": "p1", "frames": [2, 5], "object_point": [0.0, 0.01, 0.02], "target": {"joint": "left_wrist"}}
    p.update(kw)
    return p


def test_round_trip_and_normal_form(tmp_path):
    data = {"pairs": [_pair(), _pair(id="", target={"vertex": 12}), _pair(id="p3", target={"image": [10, 20.5]})],
            "object_static": True, "object_scale": 1.5}
    saved = A.save(tmp_path, data, num_frames=10, num_vertices=100)
    assert [p["id"] for p in saved["pairs"]] == ["p1", "p2", "p3"]
    assert saved["pairs"][2]["target"] == {"image": [10.0, 20.5]}
    assert A.load(tmp_path) == saved
    assert json.loads((tmp_path / A.FILE_NAME).read_text())["format"] == A.FORMAT


@pytest.mark.parametrize("bad, words", [
    ({"pairs": [_pair(frames=[3, 12])]}, "outside the clip"),
    ({"pairs": [_pair(frames=[5, 2])]}, "reversed"),
    ({"pairs": [_pair(target={"joint": "tail"})]}, "unknown body joint"),
    ({"pairs": [_pair(target={"vertex": 1000})]}, "not a body-mesh vertex"),
    ({"pairs": [_pair(object_point=[0, float("nan"), 0])]}, "finite"),
    ({"pairs": [_pair(), _pair()]}, "used twice"),
    ({"pairs": [_pair(target={"hand": 1})]}, "'target' must be"),
    ({"object_scale": -2}, "positive"),
    ({"format": "other/2"}, "unknown annotation format"),
])
def test_bad_annotations_are_refused_and_the_file_kept(tmp_path, bad, words):
    good = A.save(tmp_path, {"pairs": [_pair()]}, num_frames=10, num_vertices=100)
    before = (tmp_path / A.FILE_NAME).read_bytes()
    with pytest.raises(A.AnnotationError, match=words):
        A.save(tmp_path, bad, num_frames=10, num_vertices=100)
    assert (tmp_path / A.FILE_NAME).read_bytes() == before
    assert A.load(tmp_path) == good


def test_pairs_need_an_object_and_a_missing_file_reads_empty(tmp_path):
    assert A.load(tmp_path) == A.empty()
    with pytest.raises(A.AnnotationError, match="no object"):
        A.validate({"pairs": [_pair()]}, has_object=False)
    (tmp_path / A.FILE_NAME).write_text("{not json")
    with pytest.raises(A.AnnotationError, match="not readable JSON"):
        A.load(tmp_path)
