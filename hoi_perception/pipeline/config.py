"""Node parameter defaults from config/pipeline.yaml (ROS 2 parameter-file format).

The same file feeds the launch file (`parameters=[...]`), the nodes' declared defaults and the
runner's defaults, so a value is written once.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from hoi_perception.paths import REPO_ROOT

CONFIG_FILE = "pipeline.yaml"


def config_dir() -> Path:
    """$HOI_CONFIG_DIR, the source tree's config/, or the installed share/hoi_perception/config."""
    env = os.environ.get("HOI_CONFIG_DIR")
    if env:
        return Path(env)
    repo = REPO_ROOT / "config"
    if (repo / CONFIG_FILE).is_file():
        return repo
    try:
        from ament_index_python.packages import get_package_share_directory

        return Path(get_package_share_directory("hoi_perception")) / "config"
    except Exception:  # noqa: BLE001 - ament is optional
        return repo


def load_node_params(node_name: str, path: str | Path | None = None) -> dict:
    """The `ros__parameters` of `node_name` (or of `/**`) in the parameter file; {} if absent."""
    path = Path(path) if path else config_dir() / CONFIG_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    params: dict = {}
    for key in ("/**", node_name, f"/{node_name}", f"/**/{node_name}"):
        section = data.get(key) or {}
        params.update(section.get("ros__parameters") or {})
    return params
