"""A tiny real dataset made once per test session by the real engine (2 full-body scenes, 1 clip)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_datasets(tmp_path_factory):
    from hoi_perception.synth import engine
    from hoi_perception.synth.generate import generate_dataset

    root = tmp_path_factory.mktemp("synth")
    out = {}
    for kind, n, size in (("fullbody", 2, 128), ("hand", 1, 96)):
        maker = engine.SampleMaker("train", size, frames=3)
        generate_dataset(root / kind, kind, n, 7, maker, shard_size=4, workers=0, progress=False,
                         generator_version=engine.GENERATOR_VERSION, params=maker.params())
        out[kind] = root / kind
    return out
