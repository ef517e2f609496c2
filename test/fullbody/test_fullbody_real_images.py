"""real_images: the shipped full-body model on real photos with given masks; a bad item is a row, not a crash."""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from hoi_perception.fullbody.training.real_images import find_items, main, measure
from hoi_perception.paths import models_dir, shared_data_dir
from hoi_perception.pipeline.stages import InferenceError

SHIPPED = models_dir() / "fullbody"
BEHAVE = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"
needs_shipped = pytest.mark.skipif(not (SHIPPED / "model_card.yaml").is_file(), reason="no shipped fullbody model")


def _person_object(h: int = 48, w: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noise image, a person mask and an object mask beside it (uint8 0/255)."""
    img = np.random.default_rng(3).integers(0, 255, (h, w, 3), dtype=np.uint8)
    person, obj = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    person[5:45, 20:35] = 255
    obj[20:30, 33:50] = 255
    return img, person, obj


def _behave_item(root: Path, stem: str, img: np.ndarray, person: np.ndarray, obj: np.ndarray,
                 name: str = "yogaball") -> None:
    for sub in ("img", "mask_h", "mask_o", "obj_name"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / "img" / f"{stem}.jpg"), img)
    cv2.imwrite(str(root / "mask_h" / f"{stem}.jpg"), person)
    cv2.imwrite(str(root / "mask_o" / f"{stem}.jpg"), obj)
    (root / "obj_name" / f"{stem}.json").write_text(json.dumps({"obj_name": [name]}))


def test_find_items_behave_layout(tmp_path):
    img, person, obj = _person_object()
    for stem in ("000002", "000001"):
        _behave_item(tmp_path, stem, img, person, obj)
    items = find_items(tmp_path)
    assert [it["id"] for it in items] == ["behave_000001", "behave_000002"]
    it = items[0]
    assert it["kind"] == "behave" and it["object_name"] == "yogaball"
    assert it["image"] == tmp_path / "img" / "000001.jpg"
    assert it["human"] == tmp_path / "mask_h" / "000001.jpg" and it["object"] == tmp_path / "mask_o" / "000001.jpg"
    # a missing or corrupt object-name file: the item stays, the class head will guess
    (tmp_path / "obj_name" / "000001.json").unlink()
    (tmp_path / "obj_name" / "000002.json").write_text("{not json")
    assert [it["object_name"] for it in find_items(tmp_path)] == [None, None]


def test_find_items_chore_layout(tmp_path):
    img, person, obj = _person_object()
    root = tmp_path / "coco_x"
    for sub in ("a", "b", "c"):
        (root / sub).mkdir(parents=True)
        cv2.imwrite(str(root / sub / "k1.color.jpg"), img)
        cv2.imwrite(str(root / sub / "k1.person_mask.png"), person)
    for sub in ("a", "b"):  # c has no object mask: not an item
        cv2.imwrite(str(root / sub / "k1.obj_mask.png"), obj)
    items = find_items(root)
    assert [it["id"] for it in items] == ["coco_x_a", "coco_x_b"]
    assert all(it["kind"] == "coco" and it["object_name"] is None for it in items)
    assert items[0]["human"] == root / "a" / "k1.person_mask.png"
    assert items[0]["object"] == root / "a" / "k1.obj_mask.png"
    # a single image folder: the folder is the item
    single = tmp_path / "coco_single"
    single.mkdir()
    for f in ("k1.color.jpg", "k1.person_mask.png", "k1.obj_mask.png"):
        shutil.copyfile(root / "a" / f, single / f)
    assert [it["id"] for it in find_items(single)] == ["coco_single"]


@pytest.mark.parametrize("result", [None, "no bodies"])
def test_empty_reconstruction_is_an_inference_error(tmp_path, result):
    img, person, obj = _person_object()
    _behave_item(tmp_path, "000001", img, person, obj, name="tablesmall")  # no template: no class given

    class Empty:
        def reconstruct(self, frame):
            return None if result is None else argparse.Namespace(bodies=[], objects=[])

    args = argparse.Namespace(hfov_behave=90.0, hfov=60.0, model="fullbody")
    with pytest.raises(InferenceError, match="returned no (result|body)"):
        measure(find_items(tmp_path)[0], args, tmp_path, None, {None: Empty()})


@needs_shipped
def test_real_frame_measured_and_corrupt_image_reported(tmp_path, capsys):
    if not (BEHAVE / "img").is_dir():
        pytest.skip(f"shared BEHAVE frames {BEHAVE} are missing")
    stem = sorted(p.stem for p in (BEHAVE / "img").glob("*.jpg"))[0]
    data = tmp_path / "data"
    for sub in ("img", "mask_h", "mask_o", "obj_name"):
        (data / sub).mkdir(parents=True)
        src = BEHAVE / sub / f"{stem}.{'json' if sub == 'obj_name' else 'jpg'}"
        shutil.copyfile(src, data / sub / src.name)
    _, person, obj = _person_object()
    _behave_item(data, "999999", np.zeros((4, 4, 3), np.uint8), person, obj)
    (data / "img" / "999999.jpg").write_bytes(np.random.default_rng(0).bytes(64))  # a corrupt image
    out = tmp_path / "out"
    assert main([str(data), "--out", str(out), "--model", "fullbody"]) == 0
    rows = {r["id"]: r for r in json.loads((out / "results.json").read_text())}
    assert set(rows) == {f"behave_{stem}", "behave_999999"}
    good = rows[f"behave_{stem}"]
    assert "error" not in good
    assert 0.0 <= good["iou_human"] <= 1.0 and 0.0 <= good["iou_object"] <= 1.0
    assert cv2.imread(str(out / f"behave_{stem}.png")) is not None
    assert "999999.jpg" in rows["behave_999999"]["error"]
    assert not (out / "behave_999999.png").exists()
    printed = capsys.readouterr().out
    assert "behave_999999: skipped" in printed and "over 1 real images (1 skipped)" in printed
