import os
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
MOCAP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mocap"


@pytest.fixture(scope="session")
def mocap() -> Path:
    if not MOCAP.is_dir():
        pytest.skip(f"shared mocap data not found at {MOCAP}")
    return MOCAP


@pytest.fixture(scope="session")
def walk_path(mocap) -> Path:
    return mocap / "deepmimic" / "humanoid3d_walk.txt"
