"""hoi_imitation: motion clips, retargeting, the imitation task, simulator backends, PPO.

Public clip API: ``load_clip``, ``save_clip``, ``SkeletonClip``, ``ObjectSpec``, ``ClipError``.
"""
from .clip import FORMAT, VERSION, ClipError, SkeletonClip, ObjectSpec, read_clip_file, save_clip, validate
from .loaders import clip_from_positions, load_bvh, load_clip, load_deepmimic, load_skillmimic

__all__ = ["FORMAT", "VERSION", "ClipError", "SkeletonClip", "ObjectSpec", "load_clip", "save_clip", "read_clip_file",
           "validate", "load_bvh", "load_deepmimic", "load_skillmimic", "clip_from_positions"]
