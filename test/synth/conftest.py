"""A tiny real dataset made once per test session by the real engine (2 full-body scenes, 1 clip)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_datasets(engine_dataset):
    return {kind: engine_dataset(kind, n, 7, size) for kind, n, size in (("fullbody", 2, 128), ("hand", 1, 96))}
