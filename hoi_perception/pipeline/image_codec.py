"""sensor_msgs/Image <-> numpy without cv_bridge (cv_bridge is used when it is importable).

Works on the message fields only (height, width, encoding, is_bigendian, step, data), so the
same code decodes rclpy messages, rosbags messages and plain dicts. Rows may be padded
(`step` > width * channels * itemsize); `is_bigendian` is honoured for multi-byte types.
"""
from __future__ import annotations

import numpy as np

from hoi_perception.pipeline.types import InputError

# encoding -> (numpy dtype, channels)
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "mono8": (np.dtype(np.uint8), 1),
    "8UC1": (np.dtype(np.uint8), 1),
    "8UC3": (np.dtype(np.uint8), 3),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
}
COLOR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8", "8UC3")
DEPTH_ENCODINGS = ("16UC1", "32FC1", "mono16")


def _field(msg, name):
    return msg[name] if isinstance(msg, dict) else getattr(msg, name)


def decode(height: int, width: int, encoding: str, is_bigendian: int | bool, step: int, data) -> np.ndarray:
    """Decode raw image fields into an (H, W, C) array of the encoding's dtype (native byte order)."""
    if encoding not in ENCODINGS:
        raise InputError(f"unsupported image encoding {encoding!r} (supported: {', '.join(ENCODINGS)})")
    dtype, channels = ENCODINGS[encoding]
    height, width, step = int(height), int(width), int(step)
    if height <= 0 or width <= 0:
        raise InputError(f"image is empty ({width}x{height})")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise InputError(f"step {step} is smaller than one row of {width} {encoding} pixels ({row_bytes} bytes)")
    buf = np.frombuffer(memoryview(data).cast("B") if not isinstance(data, np.ndarray) else data.view(np.uint8),
                        dtype=np.uint8)
    if buf.size < height * step:
        raise InputError(f"image data has {buf.size} bytes, expected {height} rows x step {step} = {height * step}")
    rows = buf[: height * step].reshape(height, step)[:, :row_bytes]
    order = ">" if is_bigendian else "<"
    typed = np.ascontiguousarray(rows).view(dtype.newbyteorder(order) if dtype.itemsize > 1 else dtype)
    out = typed.reshape(height, width, channels)
    return out.astype(dtype, copy=False) if dtype.itemsize > 1 else out


def to_rgb8(array: np.ndarray, encoding: str) -> np.ndarray:
    """(H, W, C) array of a colour/mono encoding -> (H, W, 3) uint8 RGB."""
    if encoding in ("rgb8", "8UC3"):
        return np.ascontiguousarray(array[..., :3])
    if encoding == "bgr8":
        return np.ascontiguousarray(array[..., 2::-1])
    if encoding == "rgba8":
        return np.ascontiguousarray(array[..., :3])
    if encoding == "bgra8":
        return np.ascontiguousarray(array[..., 2::-1])
    if encoding in ("mono8", "8UC1"):
        return np.ascontiguousarray(np.repeat(array[..., :1], 3, axis=2))
    raise InputError(f"encoding {encoding!r} is not a colour image (expected one of {', '.join(COLOR_ENCODINGS)})")


def to_depth_m(array: np.ndarray, encoding: str) -> np.ndarray:
    """(H, W, 1) depth array -> (H, W) float32 metres; 16UC1/mono16 are millimetres (REP 118)."""
    if encoding in ("16UC1", "mono16"):
        d = array[..., 0].astype(np.float32) * 1e-3
        d[array[..., 0] == 0] = np.nan
        return d
    if encoding == "32FC1":
        return array[..., 0].astype(np.float32, copy=True)
    raise InputError(f"encoding {encoding!r} is not a depth image (expected one of {', '.join(DEPTH_ENCODINGS)})")


def _cv_bridge():
    try:
        from cv_bridge import CvBridge  # optional: present on full ROS installs only
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return CvBridge()


_BRIDGE = None
_BRIDGE_CHECKED = False


def image_msg_to_rgb(msg, use_cv_bridge: bool = True) -> np.ndarray:
    """sensor_msgs/Image (rclpy, rosbags or dict) -> (H, W, 3) uint8 RGB."""
    global _BRIDGE, _BRIDGE_CHECKED
    encoding = _field(msg, "encoding")
    if use_cv_bridge and not isinstance(msg, dict):
        if not _BRIDGE_CHECKED:
            _BRIDGE, _BRIDGE_CHECKED = _cv_bridge(), True
        if _BRIDGE is not None and encoding in COLOR_ENCODINGS and int(_field(msg, "height")) > 0:
            try:
                return np.ascontiguousarray(_BRIDGE.imgmsg_to_cv2(msg, desired_encoding="rgb8"))
            except Exception as exc:  # noqa: BLE001 - cv_bridge raises its own error types
                raise InputError(f"cv_bridge could not convert the image: {exc}") from exc
    arr = decode(_field(msg, "height"), _field(msg, "width"), encoding, _field(msg, "is_bigendian"),
                 _field(msg, "step"), _field(msg, "data"))
    return to_rgb8(arr, encoding)


def image_msg_to_depth(msg) -> np.ndarray:
    """Depth sensor_msgs/Image -> (H, W) float32 metres."""
    encoding = _field(msg, "encoding")
    arr = decode(_field(msg, "height"), _field(msg, "width"), encoding, _field(msg, "is_bigendian"),
                 _field(msg, "step"), _field(msg, "data"))
    return to_depth_m(arr, encoding)


def encode(array: np.ndarray, encoding: str, pad_to: int = 1, bigendian: bool = False) -> dict:
    """numpy image -> dict of sensor_msgs/Image fields (without header).

    `pad_to` rounds each row up to a multiple of that many bytes (to produce padded rows).
    """
    if encoding not in ENCODINGS:
        raise InputError(f"unsupported image encoding {encoding!r}")
    dtype, channels = ENCODINGS[encoding]
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] != channels:
        raise InputError(f"{encoding} needs {channels} channel(s), got array of shape {array.shape}")
    h, w = a.shape[:2]
    a = a.astype(dtype.newbyteorder(">" if bigendian else "<"), copy=False)
    row = w * channels * dtype.itemsize
    step = -(-row // pad_to) * pad_to
    out = np.zeros((h, step), np.uint8)
    out[:, :row] = np.ascontiguousarray(a).view(np.uint8).reshape(h, row)
    return {"height": h, "width": w, "encoding": encoding, "is_bigendian": int(bool(bigendian)),
            "step": step, "data": out.reshape(-1)}
