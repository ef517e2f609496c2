"""No result from nothing: images that cannot show a person or a hand never reach a model."""
from __future__ import annotations

import numpy as np
import pytest

from hoi_perception.paths import models_dir
from hoi_perception.pipeline.evidence import missing_evidence
from hoi_perception.pipeline.stages import ReconstructionStage, load_reconstructor
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError


def non_scenes() -> dict[str, np.ndarray]:
    return {"1x1 grey": np.full((1, 1, 3), 128, np.uint8), "2x2 black": np.zeros((2, 2, 3), np.uint8),
            "blank 480x640": np.full((480, 640, 3), 200, np.uint8),
            "blank with sensor noise": np.random.default_rng(0).normal(90, 1.0, (240, 320, 3)).clip(0, 255).astype(np.uint8)}


def frame(image: np.ndarray, index: int = 0, masks: bool = False) -> Frame:
    h, w = image.shape[:2]
    m = None
    if masks:  # a person and an object mask, as an upstream segmenter might send them
        m = np.zeros((2, h, w), bool)
        m[0, : max(1, h // 2)], m[1, max(1, h // 2) - 1:] = True, True
    return Frame(image=image, stamp_ns=index * 33_000_000, frame_id="cam", index=index,
                 intrinsics=CameraIntrinsics.from_fov(w, h), masks=m)


def test_non_scenes_lack_evidence_and_real_frames_do_not():
    for name, img in non_scenes().items():
        assert missing_evidence(frame(img)) is not None, name
    textured = np.random.default_rng(1).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    assert missing_evidence(frame(textured)) is None


@pytest.mark.parametrize("task", ["fullbody", "handobject"])
def test_shipped_models_give_no_result_from_nothing(task):
    if not (models_dir() / task / "model_card.yaml").is_file():
        pytest.skip(f"no shipped {task} model")
    stage = ReconstructionStage(load_reconstructor(task, task))
    for name, img in non_scenes().items():
        for i in range(3):  # the hand-object model answers from its second frame on
            with pytest.raises(InputError, match="too small|blank"):
                stage.process(frame(img, i, masks=task == "fullbody"))
