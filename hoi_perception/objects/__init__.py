"""Object library: YCB meshes (read in place from the shared data folder), procedural shapes and
user meshes, each as an `ObjectAsset` in a documented canonical frame (docs/objects_and_rendering.md)."""
from .asset import KEYPOINT_NAMES, N_SUBSET, ObjectAsset, farthest_point_sampling, make_asset
from .library import (DEFAULT_SIZE_RANGE, ObjectLibrary, UnitsError, UnknownObjectError, check_units,
                      default_library, user_asset)
from .procedural import KINDS as PROCEDURAL_KINDS
from .procedural import generate as generate_procedural
from .symmetry import is_continuous, symmetry_rotations
from .ycb import HELDOUT_OBJECTS, TRAIN_OBJECTS, YCB_NAMES, load_ycb

__all__ = [
    "ObjectAsset", "ObjectLibrary", "UnitsError", "UnknownObjectError", "KEYPOINT_NAMES", "N_SUBSET",
    "DEFAULT_SIZE_RANGE", "PROCEDURAL_KINDS", "TRAIN_OBJECTS", "HELDOUT_OBJECTS", "YCB_NAMES",
    "check_units", "default_library", "farthest_point_sampling", "generate_procedural", "is_continuous",
    "load_ycb", "make_asset", "symmetry_rotations", "user_asset",
]
