"""A person's corrections to a 4D clip, kept as JSON next to it (``annotations.json``).

Format ``hoi_annotations/1``::

    {"format": "hoi_annotations/1",
     "pairs": [{"id": "p1", "frames": [a, b],               # inclusive clip frame indices
                "object_point": [x, y, z],                   # metres, in the object's template frame
                "target": {"joint": "left_wrist"}            # a canonical body joint, or
                        | {"vertex": 5012}                   # a body-mesh vertex, or
                        | {"image": [u, v]}}],               # a pixel the object point projects to
     "object_static": false,                                 # the object does not move in the clip
     "object_scale": null}                                   # a fixed size factor of the template

A 3D pair (joint, vertex) says "this object point touches this body point over these frames"; an
image pair says "this object point is seen at this pixel" (2D-3D). Reading never drops what it
cannot use silently: `validate` raises `AnnotationError` naming the pair and the problem.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from hoi_perception.atomic_files import atomic_write_bytes
from hoi_perception.body.joints import BODY_JOINTS

FORMAT = "hoi_annotations/1"
FILE_NAME = "annotations.json"
TARGET_KINDS = ("joint", "vertex", "image")


class AnnotationError(ValueError):
    """An annotation that cannot be used; the message names the pair and why."""


def empty() -> dict:
    return {"format": FORMAT, "pairs": [], "object_static": False, "object_scale": None}


def _finite(values, n: int, what: str) -> list[float]:
    if not isinstance(values, (list, tuple)) or len(values) != n:
        raise AnnotationError(f"{what} must be a list of {n} numbers, got {values!r}")
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise AnnotationError(f"{what} must be numbers, got {values!r}") from None
    if not all(math.isfinite(v) for v in out):
        raise AnnotationError(f"{what} must be finite, got {values!r}")
    return out


def validate(data: dict, num_frames: int | None = None, num_vertices: int | None = None,
             has_object: bool = True) -> dict:
    """The annotations in normal form, or `AnnotationError`. With ``num_frames`` / ``num_vertices``
    given, frame ranges and vertex indices are checked against the clip."""
    if not isinstance(data, dict):
        raise AnnotationError(f"annotations must be a JSON object, got {type(data).__name__}")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise AnnotationError(f"unknown annotation format {fmt!r} (this version reads {FORMAT!r})")
    pairs_in = data.get("pairs", [])
    if not isinstance(pairs_in, list):
        raise AnnotationError("'pairs' must be a list")
    pairs, ids = [], set()
    for n, p in enumerate(pairs_in):
        if not isinstance(p, dict):
            raise AnnotationError(f"pair {n}: must be an object")
        pid = str(p.get("id") or f"p{n + 1}")
        if pid in ids:
            raise AnnotationError(f"pair {pid}: the id is used twice")
        ids.add(pid)
        if not has_object:
            raise AnnotationError(f"pair {pid}: the clip has no object to pair")
        frames = p.get("frames")
        if not isinstance(frames, (list, tuple)) or len(frames) != 2 or not all(isinstance(f, int) for f in frames):
            raise AnnotationError(f"pair {pid}: 'frames' must be [first, last] frame indices, got {frames!r}")
        a, b = int(frames[0]), int(frames[1])
        if a > b:
            raise AnnotationError(f"pair {pid}: frame range [{a}, {b}] is reversed")
        if a < 0 or (num_frames is not None and b >= num_frames):
            raise AnnotationError(f"pair {pid}: frames [{a}, {b}] are outside the clip's 0..{(num_frames or 1) - 1}")
        point = _finite(p.get("object_point"), 3, f"pair {pid}: 'object_point'")
        target = p.get("target")
        if not isinstance(target, dict) or len(target) != 1 or next(iter(target)) not in TARGET_KINDS:
            raise AnnotationError(f"pair {pid}: 'target' must be one of {{'joint': name}}, {{'vertex': index}}, "
                                  f"{{'image': [u, v]}}; got {target!r}")
        kind, value = next(iter(target.items()))
        if kind == "joint":
            if value not in BODY_JOINTS:
                raise AnnotationError(f"pair {pid}: unknown body joint {value!r} (one of {', '.join(BODY_JOINTS)})")
        elif kind == "vertex":
            if not isinstance(value, int) or value < 0 or (num_vertices is not None and value >= num_vertices):
                raise AnnotationError(f"pair {pid}: vertex {value!r} is not a body-mesh vertex index"
                                      + (f" (0..{num_vertices - 1})" if num_vertices else ""))
        else:
            value = _finite(value, 2, f"pair {pid}: image point")
        pairs.append({"id": pid, "frames": [a, b], "object_point": point, "target": {kind: value}})
    scale = data.get("object_scale")
    if scale is not None:
        try:
            scale = float(scale)
        except (TypeError, ValueError):
            raise AnnotationError(f"object_scale must be a number or null, got {scale!r}") from None
        if not (math.isfinite(scale) and scale > 0):
            raise AnnotationError(f"object_scale must be positive, got {scale!r}")
    static = data.get("object_static", False)
    if not isinstance(static, bool):
        raise AnnotationError(f"object_static must be true or false, got {static!r}")
    return {"format": FORMAT, "pairs": pairs, "object_static": static, "object_scale": scale}


def load(clip_dir, **checks) -> dict:
    """The clip's annotations (empty when it has none yet), validated."""
    path = Path(clip_dir) / FILE_NAME
    if not path.exists():
        return empty()
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnnotationError(f"{path}: not readable JSON ({exc})") from None
    try:
        return validate(data, **checks)
    except AnnotationError as exc:
        raise AnnotationError(f"{path}: {exc}") from None


def save(clip_dir, data: dict, **checks) -> dict:
    """Validate, then write atomically (the old file stays whole if anything fails)."""
    clean = validate(data, **checks)
    atomic_write_bytes(Path(clip_dir) / FILE_NAME, (json.dumps(clean, indent=1) + "\n").encode())
    return clean
