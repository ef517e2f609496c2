"""Training pairs for the object segmenter from the engine's full-body scenes (`hoi-perception synth
--kind fullbody`): each view's image, its person mask (body and hands), its hands' 2D joints as the
prompt, and the object's visible mask as the target.

Augmentation is shaped like a camera's front end: the person mask grown or shrunk by a few pixels
(the detector's mask is not the true one), hand points jittered, thinned to the body landmarks'
wrist and fingers, or one hand dropped (the hand detector misses hands), the crop's margin and
centre varied; and like a camera: colour, blur and sensor noise.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.synth.engine import BODY_ID, OBJECT_ID, RIGHT_HAND_ID
from hoi_perception.synth.shards import iter_shard, read_manifest

from ..prompt import MARGIN, SIZE, make_prompt, person_box

N_BODY_JOINTS = 22  # joints_2d: 22 body joints, then 21 per hand (left, right)
HAND_TIPS = (0, 4, 8, 20)  # wrist, thumb tip, index tip, pinky tip: what body landmarks give of a hand


@dataclass
class Views:
    """Decoded views: rgb (N, S, S, 3) uint8, person / target (N, S, S) bool, hands (N, 2, 21, 2) px."""

    rgb: np.ndarray
    person: np.ndarray
    target: np.ndarray
    hands: np.ndarray

    def __len__(self) -> int:
        return len(self.rgb)


def load_views(roots: list[Path]) -> Views:
    rgb, person, target, hands = [], [], [], []
    for root in roots:
        root = Path(root)
        manifest = read_manifest(root)
        for shard in manifest["shards"]:
            path = root / Path(shard["index"]).name.replace(".idx.json", ".tar")
            for _, arrays, _ in iter_shard(path):
                for v in range(arrays["joints_2d"].shape[0]):
                    img = cv2.imdecode(arrays[f"rgb_{v}"], cv2.IMREAD_COLOR)[..., ::-1]
                    inst = cv2.imdecode(arrays[f"instance_{v}"], cv2.IMREAD_UNCHANGED)
                    rgb.append(img)
                    person.append((inst >= BODY_ID) & (inst <= RIGHT_HAND_ID))
                    target.append(inst == OBJECT_ID)
                    hands.append(arrays["joints_2d"][v, N_BODY_JOINTS:].reshape(2, 21, 2))
    return Views(np.stack(rgb), np.stack(person), np.stack(target), np.stack(hands).astype(np.float32))


def _noisy_person(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(-3, 4))
    if k == 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(k) + 1,) * 2)
    op = cv2.dilate if k > 0 else cv2.erode
    return op(mask.astype(np.uint8), kernel) > 0


def _noisy_hands(hands: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """(M, 2) prompt points from the two hands' 21 joints, as a front end would give them."""
    points = []
    for side in range(2):
        if rng.random() < 0.2:  # the detector missed this hand
            continue
        h = hands[side]
        if rng.random() < 0.5:  # no hand detection: the body landmarks' wrist and fingers only
            h = h[list(HAND_TIPS)]
        points.append(h + rng.normal(0.0, 0.01 * size, h.shape))
    return np.concatenate(points) if points else np.zeros((0, 2))


def _camera_look(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = rgb.astype(np.float32) / 255.0
    x = (x - 0.5) * rng.uniform(0.7, 1.3) + 0.5 + rng.uniform(-0.15, 0.15)  # contrast, brightness
    grey = x.mean(-1, keepdims=True)
    x = grey + (x - grey) * rng.uniform(0.5, 1.4)  # saturation
    if rng.random() < 0.3:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.5))
    x = x + rng.normal(0.0, rng.uniform(0.0, 0.04), x.shape)
    return (np.clip(x, 0, 1) * 255).astype(np.uint8)


def sample(views: Views, i: int, rng: np.random.Generator, augment: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (5, S, S) float32, target (S, S) float32) of view ``i``."""
    rgb, person, target, hands = views.rgb[i], views.person[i], views.target[i], views.hands[i]
    if augment and rng.random() < 0.5:  # mirror: sides swap
        w = rgb.shape[1]
        rgb, person, target = rgb[:, ::-1], person[:, ::-1], target[:, ::-1]
        hands = hands[::-1].copy()
        hands[..., 0] = w - 1 - hands[..., 0]
    box = person_box(person, rng.uniform(MARGIN - 0.3, MARGIN + 0.3) if augment else MARGIN)
    if box is None:
        box = (rgb.shape[1] / 2, rgb.shape[0] / 2, float(max(rgb.shape[:2])))
    if augment:
        box = (box[0] + rng.normal(0, 0.05) * box[2], box[1] + rng.normal(0, 0.05) * box[2], box[2])
        person = _noisy_person(person, rng)
        points = _noisy_hands(hands, float(box[2]), rng)
        rgb = _camera_look(np.ascontiguousarray(rgb), rng)
    else:
        points = hands.reshape(-1, 2)
    prompt = make_prompt(np.ascontiguousarray(rgb), person, points, box)
    tgt = cv2.warpAffine(target.astype(np.uint8) * 255, prompt.affine, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
    return prompt.inputs, (tgt > 127).astype(np.float32)


def batch(views: Views, index: np.ndarray, rng: np.random.Generator, augment: bool = True):
    xs, ys = zip(*(sample(views, int(i), rng, augment) for i in index))
    return np.stack(xs), np.stack(ys)
