"""The assets every stage shares, built once per process: the anny body model and the object
library (YCB meshes plus the procedural shapes the networks were trained with).

Live inference, training, benchmarks and the data engine all take them from here. Nothing here
changes global state: torch's thread count stays what the caller (a backend's ``threads``) set.
"""
from __future__ import annotations

import functools

# The procedural objects the networks saw: fixed, so every process builds the same library.
PROCEDURAL_SEED = 0
PROCEDURAL_PER_KIND = 8
PROCEDURAL_HELDOUT = 0.25


@functools.lru_cache(maxsize=None)
def body_model():
    """anny's full body (13,718 vertices), float32 on the CPU."""
    from hoi_perception.body import load_body_model
    from hoi_perception.paths import anny_cache_dir

    anny_cache_dir()
    return load_body_model("anny", "body")


@functools.lru_cache(maxsize=None)
def object_library():
    """YCB and procedural objects with their train / held-out split."""
    from hoi_perception.objects import default_library

    lib = default_library(procedural_seed=None)
    lib.add_procedural(PROCEDURAL_SEED, PROCEDURAL_PER_KIND, heldout_fraction=PROCEDURAL_HELDOUT)
    return lib
