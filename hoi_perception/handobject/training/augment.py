"""Camera-like degradations of training clips (ours): the engine renders clean, saturated, aliased
frames, a phone or robot camera gives muted colours, defocus, sensor noise and compression.

Each applies to the images only, so every target (masks, occupancy, pose, hand) stays exact.
"""
from __future__ import annotations

import cv2
import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32).reshape(1, 3, 1, 1)


def desaturate(images: np.ndarray, keep: float) -> np.ndarray:
    """Blend each pixel towards its luma: keep 1 leaves the colours, 0 makes the frames grey."""
    gray = (images * LUMA).sum(axis=1, keepdims=True)
    return gray + keep * (images - gray)


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of every frame (F, 3, H, W), sigma in pixels."""
    if sigma <= 0:
        return images
    out = np.empty_like(images)
    for i, frame in enumerate(images):
        hwc = np.ascontiguousarray(frame.transpose(1, 2, 0))
        out[i] = cv2.GaussianBlur(hwc, (0, 0), sigma).transpose(2, 0, 1)
    return out


def jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip every frame through JPEG at `quality` (block artefacts of compressed video)."""
    out = np.empty_like(images)
    for i, frame in enumerate(images):
        u8 = np.ascontiguousarray((np.clip(frame, 0, 1).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))
        ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out[i] = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).transpose(2, 0, 1).astype(np.float32) / 255.0
    return out


def camera_degrade(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random draw of the degradations for a whole clip (the same camera took every frame).

    images: (F, 3, H, W) float32 in [0, 1]. Returns the same shape and dtype, clipped to [0, 1]."""
    images = desaturate(images, float(rng.uniform(0.3, 1.1)))
    if rng.random() < 0.5:
        images = blur(images, float(rng.uniform(0.3, 1.2)))
    noise = float(rng.uniform(0.0, 0.03))
    images = images + rng.normal(0.0, noise, size=images.shape)
    images = np.clip(images, 0, 1).astype(np.float32)
    if rng.random() < 0.5:
        images = jpeg(images, int(rng.integers(30, 91)))
    return images
