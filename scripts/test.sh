#!/usr/bin/env bash
# The project's test command (README, CI). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${HOI_VENV:-$PWD/.venv}
# ROS environment (rclpy, hoi_msgs from the colcon install) for the real-graph tests.
# shellcheck disable=SC1091
source scripts/ros_env.sh "$VENV"
export PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-egl}
export MUJOCO_GL=${MUJOCO_GL:-egl}
# With no paths given, pytest runs setup.cfg's testpaths (test/).
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
