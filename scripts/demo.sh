#!/usr/bin/env bash
# The main job on real input from ../shared/data: the hand-held object pipeline on a real phone
# video of a hand holding a mug (no ROS needed; results as a rosbag2 MCAP with hoi_msgs, meshes
# and overlays), then a look at the synthetic data the models learn from.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${HOI_VENV:-$PWD/.venv}
export PATH="$VENV/bin:$PATH"
SHARED=${HOI_SHARED_DATA:-$PWD/../shared/data}
OUT=${1:-runs/demo}
mkdir -p "$OUT"

echo "== hand-held object reconstruction on $SHARED/video/hand_object_wild/wild1.mp4"
hoi-perception run --source "$SHARED/video/hand_object_wild/wild1.mp4" --task handobject --model handobject \
  --overlay-every 1 --mesh-every 30 \
  --out "$OUT/wild1" --max-frames 60
echo "   results: $OUT/wild1 (bag/, meshes/, overlays/, report.json)"

echo "== synthetic training data: 4 full-body scenes and 4 hand clips (YCB and procedural objects), and contact sheets"
hoi-perception synth --kind fullbody --n 4 --seed 0 --out "$OUT/synth_fullbody" --no-progress
hoi-perception synth --kind hand --n 4 --seed 0 --out "$OUT/synth_hand" --no-progress
hoi-perception synth-preview "$OUT/synth_fullbody" --rows 4 --out "$OUT/synth_fullbody.png"
hoi-perception synth-preview "$OUT/synth_hand" --rows 4 --out "$OUT/synth_hand.png"
echo "== done: open $OUT/wild1/overlays/ and $OUT/synth_*.png"
