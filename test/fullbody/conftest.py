"""Fixtures of the full-body tests."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.pipeline.types import CameraIntrinsics, Frame


@pytest.fixture
def fullbody_frame():
    """make(masks=True, k=None) -> a 128x96 noise frame with a person mask and an object mask beside it."""

    def make(masks: bool = True, k: CameraIntrinsics | None = None) -> Frame:
        h, w = 96, 128
        img = np.random.default_rng(1).integers(0, 255, (h, w, 3), dtype=np.uint8)
        human = np.zeros((h, w), bool)
        human[10:90, 40:70] = True
        obj = np.zeros((h, w), bool)
        obj[40:60, 65:95] = True
        intr = CameraIntrinsics(110.0, 110.0, 64.0, 48.0, w, h) if k is None else k
        return Frame(image=img, stamp_ns=1, frame_id="cam", intrinsics=intr,
                     masks=np.stack([human, obj]) if masks else None)

    return make


@pytest.fixture(scope="module")
def real_photo():
    """load(name, hfov) -> RGB, object mask and field-of-view intrinsics of a shared photo
    (`images/hoi_noncommercial/<name>`, e.g. "coco_hdm/017450")."""
    import cv2

    from hoi_perception.paths import shared_data_dir

    def load(name: str, hfov: float):
        folder = shared_data_dir() / "images" / "hoi_noncommercial" / name
        rgb = np.ascontiguousarray(cv2.imread(str(folder / "k1.color.jpg"))[..., ::-1])
        obj = cv2.imread(str(next(folder.glob("k1.obj*mask.*"))), cv2.IMREAD_GRAYSCALE)
        h, w = rgb.shape[:2]
        return rgb, cv2.resize(obj, (w, h), interpolation=cv2.INTER_NEAREST) > 127, CameraIntrinsics.from_fov(w, h, hfov)

    return load
