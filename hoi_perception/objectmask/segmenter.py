"""The learned object segmenter at run time: the person's crop and prompt (`prompt.py`) in, the
object's visible mask in the image out, through any inference backend (ONNX Runtime by default).

The model folder (`models/objectmask`) holds `card.yaml` (its figures and the mask level), the
ONNX graph and fp16 safetensors weights. No model folder: `ModelNotAvailable`, with the command that
trains one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from hoi_perception.backends import BackendError, load_backend
from hoi_perception.paths import models_dir
from hoi_perception.pipeline.stages import ModelNotAvailable

from .prompt import SIZE, make_prompt, person_box, uncrop_mask

MODEL_NAME = "objectmask"  # under the models folder
CARD = "card.yaml"
INPUTS, OUTPUTS = ("inputs",), ("logits",)
MIN_SHARE = 0.002  # components smaller than this share of the crop are noise, not the object


@dataclass(frozen=True)
class SegmentedObject:
    mask: np.ndarray | None  # (H, W) bool, None where no object was found
    probability: np.ndarray | None  # (H, W) float32 in [0, 1] (0 outside the crop)
    reason: str


def read_card(model_dir: Path) -> dict:
    path = Path(model_dir) / CARD
    if not path.is_file():
        raise ModelNotAvailable(f"no object segmenter at {model_dir} ({CARD} missing): train one with `python -m "
                                "hoi_perception.objectmask.training.train` and release it with "
                                "`python -m hoi_perception.objectmask.training.release`")
    try:
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ModelNotAvailable(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(card, dict) or "weights_onnx" not in card:
        raise ModelNotAvailable(f"{path} lacks weights_onnx")
    return card


def load_torch_net(model_dir: Path, weights: str):
    from safetensors.torch import load_file

    from .net import SegmenterNet

    path = Path(model_dir) / weights
    if not path.is_file():
        raise ModelNotAvailable(f"{path} is missing")
    net = SegmenterNet()
    try:
        net.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    except Exception as exc:  # a truncated or foreign file: one clear message
        raise ModelNotAvailable(f"{path} cannot be read as the segmenter's weights: {exc}") from exc
    return net.eval()


class ObjectSegmenter:
    def __init__(self, model_dir: str | Path | None = None, backend: str = "onnxruntime", threads: int = 1,
                 device: str = "cpu") -> None:
        self.model_dir = Path(model_dir) if model_dir else models_dir() / MODEL_NAME
        self.card = read_card(self.model_dir)
        self.level = float(self.card.get("mask_level", 0.5))
        try:
            if backend == "torch":
                module = load_torch_net(self.model_dir, self.card.get("weights_torch", "model.safetensors"))
                self.backend = load_backend("torch", torch_module=module, input_names=INPUTS, output_names=OUTPUTS,
                                            threads=threads, device=device)
            else:
                self.backend = load_backend(backend, onnx_path=self.model_dir / self.card["weights_onnx"],
                                            threads=threads, device=device)
        except BackendError as exc:
            raise ModelNotAvailable(f"object segmenter at {self.model_dir}: {exc}") from exc

    def segment(self, image: np.ndarray, person_mask: np.ndarray, hand_points: np.ndarray) -> SegmentedObject:
        """The object at the person's hands: image (H, W, 3) uint8 RGB, person mask (H, W) bool,
        hand points (N, 2) image pixels (the front end's hand and wrist landmarks)."""
        box = person_box(person_mask)
        if box is None:
            return SegmentedObject(None, None, "the person mask is empty: no crop to look for the object in")
        prompt = make_prompt(image, person_mask, hand_points, box)
        logits = self.backend.run({"inputs": prompt.inputs[None]})["logits"][0]
        prob = uncrop_mask(1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30))), prompt.affine, image.shape)
        mask = keep_large_parts(prob >= self.level, MIN_SHARE * (box[2] ** 2))
        if not mask.any():
            return SegmentedObject(None, prob, "the segmenter found no object at the person")
        return SegmentedObject(mask, prob, f"object from the segmenter: {int(mask.sum())} px")


def keep_large_parts(mask: np.ndarray, min_pixels: float) -> np.ndarray:
    """The connected parts of ``mask`` with at least ``min_pixels`` pixels."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_pixels
    return keep[labels]


__all__ = ["SIZE", "ObjectSegmenter", "SegmentedObject", "keep_large_parts", "read_card"]
