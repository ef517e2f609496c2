"""Loaders: every source ends as a canonical ``SkeletonClip`` (z-up, metres, REP 103)."""
from __future__ import annotations

from pathlib import Path

from ..clip import ClipError, SkeletonClip, read_clip_file
from .bvh import load_bvh, read_bvh
from .deepmimic import load_deepmimic
from .perception_clip import load_recorder_clip
from .skillmimic import clip_from_positions, load_skillmimic


def load_clip(path: str | Path, kind: str | None = None) -> SkeletonClip:
    """Load any supported clip; ``kind`` = clip | recorder | bvh | deepmimic | skillmimic, else by
    suffix (``.npz`` files are told apart by content)."""
    path = Path(path)
    if not path.exists():
        raise ClipError(f"{path}: no such file")
    kind = kind or {".npz": "clip", ".bvh": "bvh", ".txt": "deepmimic", ".json": "deepmimic",
                    ".pt": "skillmimic"}.get(path.suffix.lower())
    loaders = {"clip": read_clip_file, "recorder": load_recorder_clip, "bvh": load_bvh, "deepmimic": load_deepmimic, "skillmimic": load_skillmimic}
    if kind not in loaders:
        raise ClipError(f"{path}: unknown clip type {path.suffix!r}; pass kind= one of {sorted(loaders)}")
    return loaders[kind](path)


__all__ = ["load_clip", "load_recorder_clip", "load_bvh", "read_bvh", "load_deepmimic", "load_skillmimic", "clip_from_positions"]
