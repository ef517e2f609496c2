#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: system packages, the Python environment (.venv),
# the ROS 2 Jazzy wheels and the colcon build of hoi_msgs, the anny body-model cache, and then
# the main job on a real input from ../shared/data.
#   bash scripts/setup.sh            # everything, then the demo
#   bash scripts/setup.sh --no-demo  # everything but the demo (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${HOI_VENV:-$ROOT/.venv}
RUN_DEMO=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) RUN_DEMO=0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }

step "System packages (offscreen OpenGL for the renderer and simulator; Node.js for the annotation page, Chromium for its test)"
DEB_PKGS="libegl1 libgl1 libgles2 libegl-mesa0 libosmesa6 cmake g++ make nodejs npm chromium chromium-driver"
missing=""
for p in $DEB_PKGS; do
  # A Node.js that brings its own npm (e.g. NodeSource's nodejs) must not get Debian's npm on top (file conflict).
  case "$p" in nodejs|npm) command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue ;; esac
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

step "Python environment in $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip wheel
# torch first, pinned: without the pin pip pulls the multi-GB CUDA build.
$PIP install -q -c constraints.txt torch==2.13.0
$PIP install -q -c constraints.txt -r requirements.txt
# pyrender pins PyOpenGL 3.1.0, which cannot drive EGL/OSMesa headless; 3.1.7 can.
$PIP install -q 'PyOpenGL==3.1.7' 2>&1 | grep -v "pyrender 0.1.45 requires PyOpenGL" || true
# The front end: mediapipe 0.10.14, the last release whose wheel bundles its models (nothing is
# downloaded at run time); --no-deps, its own dependencies are in requirements.txt.
$PIP install -q --no-deps mediapipe==0.10.14
$PIP install -q --no-deps -e .

step "three.js for the annotation page (npm ci in hoi_perception/annotate/web)"
WEB=hoi_perception/annotate/web
LOCK_SUM=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
# Only when node_modules is missing or was installed from another package-lock.json.
if [ "$(cat "$WEB/node_modules/.hoi-lock-sha256" 2>/dev/null)" != "$LOCK_SUM" ]; then
  (cd "$WEB" && npm ci --no-audit --no-fund)
  echo "$LOCK_SUM" > "$WEB/node_modules/.hoi-lock-sha256"
fi

step "ROS 2 Jazzy wheels and colcon build of hoi_msgs + hoi_perception"
bash scripts/build_ros.sh "$VENV"

step "Caches: anny body/hand models (~2 min the first time) and object distance fields (~1 min)"
"$VENV/bin/hoi-perception" prepare

if [ "$RUN_DEMO" = 1 ]; then
  step "Main job"
  bash scripts/demo.sh
fi
step "Done. Run the tests with: bash scripts/test.sh"
