"""Fixtures of the ROS tests (constants and the import set-up live in ros_support.py)."""
from __future__ import annotations

import os

import pytest
from ros_support import LIB, SKIP_REASON, _ros_env


@pytest.fixture(scope="session")
def ros_env() -> dict:
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    if not (LIB / "fullbody_node").is_file():
        pytest.skip("node executables not built: run scripts/build_ros.sh")
    return _ros_env()


@pytest.fixture(scope="session")
def domain_id() -> int:
    # One domain per test run; pid spreads concurrent runs on one machine over 1..100.
    return 1 + os.getpid() % 100


@pytest.fixture(scope="session")
def rclpy_context(domain_id):
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    os.environ["ROS_DOMAIN_ID"] = str(domain_id)
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    import rclpy

    ctx = rclpy.context.Context()
    rclpy.init(context=ctx, domain_id=domain_id)
    yield ctx
    rclpy.shutdown(context=ctx)
