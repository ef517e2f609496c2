"""`hoi-perception prepare`: build the persistent caches once (anny models, object distance fields).

anny writes ~0.8-1.7 GB the first time a body or hand model is built (ANNY_CACHE_DIR, default
~/.cache/hoi_perception/anny); the data engine's object distance fields and voxels are cached in
~/.cache/hoi_perception/fields. Both are reused by every later process.
"""
from __future__ import annotations

import argparse
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip-fields", action="store_true", help="only build the body-model cache")


def main(args: argparse.Namespace) -> int:
    from hoi_perception.body import load_body_model
    from hoi_perception.paths import anny_cache_dir, cache_dir

    t0 = time.perf_counter()
    folder = anny_cache_dir()
    for kind in ("body", "hand_left", "hand_right"):
        load_body_model("anny", kind)
    print(f"anny body and hand models ready ({time.perf_counter() - t0:.0f} s; cache {folder})")
    if not args.skip_fields:
        from hoi_perception.synth import engine

        t1 = time.perf_counter()
        lib = engine.object_library()
        for oid in lib.ids("all"):
            engine.object_sdf(oid)
            engine.object_voxels(oid)
        print(f"distance fields of {len(lib)} objects ready ({time.perf_counter() - t1:.0f} s; cache {cache_dir() / 'fields'})")
    return 0
