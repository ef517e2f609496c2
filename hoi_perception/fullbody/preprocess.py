"""Pre/post-processing shared by every backend (torch, ONNX Runtime, TensorRT).

crop: the square box around the union of the human and object masks (enlarged by `margin`)
is warped to S x S; the crop intrinsics follow exactly (K_crop = A K with the affine A), so
the network works in the camera optical frame of the source image and no un-cropping of 3D
outputs is needed: predicted points are already camera-frame metres; `uncrop_points` maps crop
pixels back to image pixels for 2D outputs.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hoi_perception.pipeline.types import InputError

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
MIN_MASK_PIXELS = 20


@dataclass
class Crop:
    image: np.ndarray       # (5, S, S) float32: normalised RGB, human mask, object mask
    intrinsics: np.ndarray  # (4,) float32 [fx, fy, cx, cy] of the crop divided by S
    affine: np.ndarray      # (2, 3) image pixel -> crop pixel
    size: int


def check_intrinsics(k: np.ndarray) -> np.ndarray:
    k = np.asarray(k, dtype=np.float64)
    if k.shape != (3, 3):
        raise InputError(f"intrinsics must be a 3x3 matrix, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise InputError("intrinsics contain NaN or infinite values")
    if k[0, 0] <= 0 or k[1, 1] <= 0:
        raise InputError(f"focal lengths must be positive, got fx={k[0, 0]}, fy={k[1, 1]}")
    return k


def mask_box(human: np.ndarray, obj: np.ndarray, margin: float = 1.2) -> tuple[float, float, float]:
    """Centre (x, y) and side of the square crop around both masks."""
    both = (human > 0) | (obj > 0)
    ys, xs = np.nonzero(both)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    side = max(x1 - x0, y1 - y0) * margin
    return (x0 + x1) / 2.0, (y0 + y1) / 2.0, max(float(side), 8.0)


def check_masks(image: np.ndarray, human: np.ndarray | None, obj: np.ndarray | None,
                min_pixels: int = MIN_MASK_PIXELS) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    if obj is None:
        raise InputError("no object mask: the full-body HOI model needs a human mask and an object mask")
    if human is None:
        raise InputError("no human mask: the full-body HOI model needs a human mask and an object mask")
    for name, m in (("human", human), ("object", obj)):
        if m.shape != (h, w):
            raise InputError(f"{name} mask is {m.shape[::-1]} but the image is {w}x{h}: the mask does not overlap the image")
        n = int(np.count_nonzero(m))
        if n < min_pixels:
            raise InputError(f"{name} mask has {n} pixels inside the image (< {min_pixels}): nothing to reconstruct")
    return human > 0, obj > 0


def crop_affine(box: tuple[float, float, float], size: int) -> np.ndarray:
    """(2, 3) image pixel -> crop pixel of the square ``box`` (centre x, centre y, side) warped to
    size x size: crop pixel = s * (image pixel - (centre - side/2)), pixel centres at integers (cv2)."""
    cx, cy, side = box
    s = size / side
    return np.array([[s, 0.0, -s * (cx - side / 2.0)], [0.0, s, -s * (cy - side / 2.0)]], np.float64)


def make_crop(image: np.ndarray, human: np.ndarray, obj: np.ndarray, k: np.ndarray, size: int,
              margin: float = 1.2, box: tuple[float, float, float] | None = None,
              min_pixels: int = MIN_MASK_PIXELS) -> Crop:
    """image (H,W,3) uint8 RGB, boolean masks, 3x3 intrinsics -> network input."""
    k = check_intrinsics(k)
    human, obj = check_masks(image, human, obj, min_pixels)
    a = crop_affine(box if box is not None else mask_box(human, obj, margin), size)
    s = a[0, 0]
    rgb = cv2.warpAffine(image, a, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mh = cv2.warpAffine(human.astype(np.uint8) * 255, a, (size, size), flags=cv2.INTER_LINEAR)
    mo = cv2.warpAffine(obj.astype(np.uint8) * 255, a, (size, size), flags=cv2.INTER_LINEAR)
    x = np.concatenate([((rgb.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1),
                        (mh.astype(np.float32) / 255.0)[None], (mo.astype(np.float32) / 255.0)[None]], axis=0)
    kc = np.array([s * k[0, 0], s * k[1, 1], s * k[0, 2] + a[0, 2], s * k[1, 2] + a[1, 2]]) / size
    return Crop(np.ascontiguousarray(x, np.float32), kc.astype(np.float32), a, size)


def uncrop_points(uv_crop: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Crop pixel coordinates (..., 2) -> image pixel coordinates."""
    s = affine[0, 0]
    return (np.asarray(uv_crop, np.float64) - affine[:, 2]) / s
