"""Fixtures shared by the test folders."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def engine_dataset(tmp_path_factory):
    """make(kind, n, seed, size, frames=3) -> folder of a small real dataset made by the data engine."""
    from hoi_perception.synth import engine
    from hoi_perception.synth.generate import generate_dataset

    def make(kind: str, n: int, seed: int, size: int, frames: int = 3):
        out = tmp_path_factory.mktemp(f"{kind}_{seed}") / kind
        maker = engine.SampleMaker("train", size, frames=frames)
        generate_dataset(out, kind, n, seed, maker, shard_size=4, workers=0, progress=False,
                         generator_version=engine.GENERATOR_VERSION, params=maker.params())
        return out

    return make
