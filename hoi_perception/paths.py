"""Where things live: the repository, the shared data beside it, models, and persistent caches."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent


def shared_data_dir() -> Path:
    """Real test data (never copied into the repo): $HOI_SHARED_DATA or ../shared/data."""
    env = os.environ.get("HOI_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def models_dir() -> Path:
    """Shipped model weights: $HOI_MODELS_DIR, the repo's models/, or the ament share folder."""
    env = os.environ.get("HOI_MODELS_DIR")
    if env:
        return Path(env)
    repo_models = REPO_ROOT / "models"
    if repo_models.is_dir():
        return repo_models
    try:  # installed by colcon: share/hoi_perception/models
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("hoi_perception")) / "models"
    except Exception:  # noqa: BLE001 - ament is optional
        return repo_models


def cache_dir() -> Path:
    """Persistent cache for built artefacts (anny model cache, TensorRT engines)."""
    env = os.environ.get("HOI_CACHE_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hoi_perception"
    base.mkdir(parents=True, exist_ok=True)
    return base


def anny_cache_dir() -> Path:
    """anny writes ~0.8 GB the first time a model is built; keep it in one persistent folder."""
    env = os.environ.get("ANNY_CACHE_DIR")
    path = Path(env) if env else cache_dir() / "anny"
    path.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ANNY_CACHE_DIR", str(path))
    return path
