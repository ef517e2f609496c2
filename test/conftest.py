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


@pytest.fixture(scope="session")
def load_bench():
    """load_bench(name) -> the module bench/bench_NAME.py (benchmarks are scripts, not package modules)."""
    import importlib.util

    from hoi_perception.bench_cli import BENCH_DIR

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"bench_{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    return load
