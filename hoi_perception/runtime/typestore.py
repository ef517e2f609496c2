"""A rosbags typestore with the hoi_msgs types, built from hoi_msgs/msg/*.msg."""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

from hoi_perception.paths import REPO_ROOT


def hoi_msgs_dir() -> Path:
    """Folder with hoi_msgs' .msg files: $HOI_MSGS_DIR, the source tree, or the installed share."""
    env = os.environ.get("HOI_MSGS_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT / "hoi_msgs" / "msg")
    candidates.append(Path(sys.prefix) / "share" / "hoi_perception" / "hoi_msgs" / "msg")  # pip install .
    try:
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory("hoi_msgs")) / "msg")
    except Exception:  # noqa: BLE001 - ament is optional
        pass
    for c in candidates:
        if c.is_dir() and any(c.glob("*.msg")):
            return c
    raise FileNotFoundError("hoi_msgs message definitions not found (set HOI_MSGS_DIR to hoi_msgs/msg)")


@lru_cache(maxsize=2)
def hoi_typestore(store: str = "ROS2_JAZZY"):
    """Typestore of a ROS 2 distribution plus every hoi_msgs type."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    ts = get_typestore(getattr(Stores, store))
    types = {}
    for path in sorted(hoi_msgs_dir().glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(encoding="utf-8"), f"hoi_msgs/msg/{path.stem}"))
    ts.register(types)
    return ts
