"""Runner output: bag megabytes per minute at 30 results/s and frames/s, compact results against full meshes.

    hoi-perception bench bagsize [--task handobject fullbody] [--frames 60] [--variants compact full files] [--json]

Runs `hoi-perception run` (the shipped models, CPU, one inference thread) on real input. handobject: the
first `--frames` frames of the phone video video/hand_object_wild/wild1.mp4 (720x1280). fullbody: the six
BEHAVE frames (behave_frames_contho) with their person and object masks, cycled to `--frames` frames (links
in a temporary folder, each frame named like its masks). Variants: `compact` (the runner's defaults),
`full` (`--mesh-detail full`), `files` (the defaults plus an overlay of every result and meshes of every 30th).
Figures per run: results, frames/s (frames read over the run's seconds in report.json), payload bytes per
result of each bag topic (read back with the mcap package) and of what is sent once (the mesh topology),
bag file bytes per result without what is sent once, and from those the bag's MB (10^6 bytes) per minute
at 30 results per second.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hoi_perception.paths import REPO_ROOT, shared_data_dir

VARIANTS = {"compact": [], "full": ["--mesh-detail", "full"], "files": ["--overlay-every", "1", "--mesh-every", "30"]}
RATE_HZ = 30.0
ONCE = "/mesh_topology"  # topics sent once per model (latched), not per result


def handobject_source(frames: int, _tmp: Path) -> list[str]:
    video = shared_data_dir() / "video" / "hand_object_wild" / "wild1.mp4"
    if not video.is_file():
        raise SystemExit(f"{video} is missing")
    return ["--task", "handobject", "--model", "handobject", "--source", str(video), "--max-frames", str(frames)]


def fullbody_source(frames: int, tmp: Path) -> list[str]:
    """The BEHAVE frames and masks cycled to `frames` frames, as links (nothing is copied)."""
    root = shared_data_dir() / "images" / "hoi_noncommercial" / "behave_frames_contho"
    names = sorted(p.name for p in (root / "img").glob("*.jpg")) if (root / "img").is_dir() else []
    if not names:
        raise SystemExit(f"the BEHAVE frames are missing under {root}")
    for sub in ("img", "mask_h", "mask_o"):
        (tmp / sub).mkdir()
        for i in range(frames):
            (tmp / sub / f"{i:06d}.jpg").symlink_to(root / sub / names[i % len(names)])
    return ["--task", "fullbody", "--model", "fullbody", "--source", str(tmp / "img"),
            "--person-masks", str(tmp / "mask_h"), "--object-masks", str(tmp / "mask_o")]


SOURCES = {"handobject": handobject_source, "fullbody": fullbody_source}


def topic_bytes(bag: Path) -> dict[str, int]:
    """Message payload bytes per topic of the bag's MCAP file(s), all messages together."""
    from mcap.reader import make_reader

    sizes: dict[str, int] = {}
    for path in sorted(bag.glob("*.mcap")):
        with path.open("rb") as fh:
            for _, channel, message in make_reader(fh).iter_messages():
                sizes[channel.topic] = sizes.get(channel.topic, 0) + len(message.data)
    return sizes


def measure(task: str, variant: str, source_args: list[str], work: Path) -> dict:
    """One runner run; its size and speed figures."""
    out = work / f"{task}_{variant}"
    cmd = [sys.executable, "-m", "hoi_perception", "run", *source_args, "--out", str(out), "--no-progress",
           *VARIANTS[variant]]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=REPO_ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads((out / "report.json").read_text())
    n = max(1, int(report["results"]))
    sizes = topic_bytes(out / "bag")
    once = {t: b for t, b in sizes.items() if t.endswith(ONCE)}
    per_result = {t: round(b / n) for t, b in sizes.items() if t not in once}
    bag_bytes = (sum(p.stat().st_size for p in (out / "bag").glob("*.mcap")) - sum(once.values())) / n
    return {"task": task, "variant": variant, "flags": " ".join(VARIANTS[variant]), "frames": report["frames_read"],
            "results": report["results"], "frames_per_s": round(report["frames_read"] / report["seconds"], 2),
            "bytes_per_result": per_result, "bytes_once": once, "bag_bytes_per_result": round(bag_bytes),
            "mb_per_min_at_30hz": round(bag_bytes * RATE_HZ * 60 / 1e6, 1),
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", nargs="+", choices=tuple(SOURCES), default=list(SOURCES))
    ap.add_argument("--variants", nargs="+", choices=tuple(VARIANTS), default=["compact", "full"])
    ap.add_argument("--frames", type=int, default=60, help="source frames per run")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.frames < 2:
        raise SystemExit("--frames must be >= 2 (the hand-object model needs 2 frames for a result)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="hoi_bagsize_") as tmp:
        for task in args.task:
            frames_dir = Path(tmp) / f"{task}_frames"
            frames_dir.mkdir()
            source_args = SOURCES[task](args.frames, frames_dir)
            for variant in args.variants:
                r = measure(task, variant, source_args, Path(tmp))
                rows.append(r)
                topics = ", ".join(f"{t} {b / 1e3:.1f} kB" for t, b in sorted(r["bytes_per_result"].items()))
                once = ", ".join(f"{t} {b / 1e3:.1f} kB" for t, b in sorted(r["bytes_once"].items()))
                print(f"{task} {variant} ({r['flags'] or 'defaults'}): {r['results']} results of {r['frames']} "
                      f"frames, {r['frames_per_s']} frames/s; per result {r['bag_bytes_per_result'] / 1e3:.1f} kB "
                      f"of bag ({topics}), once {once or 'nothing'}; {r['mb_per_min_at_30hz']} MB per minute at "
                      f"30 results/s (1-min load {r['load_avg_1min']})", flush=True)
    if args.json:
        print(json.dumps({"runs": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
