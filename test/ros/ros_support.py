"""ROS test support: make rclpy + hoi_msgs (colcon install/) importable here and in child nodes.

Imported by name (`from ros_support import ...`): a conftest module cannot be imported reliably
when several test folders have one.

The environment of scripts/ros_env.sh is computed once; child node processes get it plus their
own ROS_DOMAIN_ID and localhost-only discovery. In this process, hoi_msgs' typesupport libraries
are preloaded because LD_LIBRARY_PATH cannot change after start-up.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "install"
LIB = INSTALL / "hoi_perception" / "lib" / "hoi_perception"


def _ros_env() -> dict:
    out = subprocess.run(["bash", "-c", f"source '{REPO}/scripts/ros_env.sh' >/dev/null && env -0"],
                         capture_output=True, check=True, env={k: v for k, v in os.environ.items()
                                                               if k != "_ROS_WHEELS_BOOTSTRAP_COMPLETE"})
    env = dict(x.split("=", 1) for x in out.stdout.decode().split("\0") if "=" in x)
    env.pop("_ROS_WHEELS_BOOTSTRAP_COMPLETE", None)  # let children re-exec with their own library path
    return env


def _make_importable() -> str:
    """'' when rclpy and hoi_msgs import here, else the reason."""
    py = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = INSTALL / "hoi_msgs" / "lib" / py / "site-packages"
    if site.is_dir() and str(site) not in sys.path:
        sys.path.insert(0, str(site))
    libs = sorted((INSTALL / "hoi_msgs" / "lib").glob("*.so"), key=lambda p: ("generator_c" not in p.name, p.name))
    try:
        import rclpy  # noqa: F401

        for lib in libs:
            ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
        import hoi_msgs.msg  # noqa: F401
        from rclpy.serialization import serialize_message

        serialize_message(hoi_msgs.msg.HoiFrame())
    except Exception as exc:  # noqa: BLE001 - any failure means ROS tests cannot run
        return (f"rclpy/hoi_msgs not importable ({type(exc).__name__}: {exc}); "
                "run scripts/build_ros.sh first")
    return ""


SKIP_REASON = _make_importable()
if SKIP_REASON and os.environ.get("CI"):
    # CI installs ROS through scripts/setup.sh: a missing ROS there is a failure, not a skip.
    raise RuntimeError(f"ROS tests cannot run in CI: {SKIP_REASON}")
requires_ros = pytest.mark.skipif(bool(SKIP_REASON), reason=SKIP_REASON or "ok")


