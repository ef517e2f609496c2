"""Engine scenes without rendering: many more arrangements for the flow than rendered sets hold.

    python -m hoi_perception.spatialprior.training.scenes --n 6000 --seed 910 --out runs/spatialprior/scenes910.npz

The engine's scene sampler (`synth/scenes.py`, training-split objects) poses a body with an object; no
image is made, since the flow only needs the arrangement to project into its own viewports. Each scene
is seeded from ``--seed`` and its index, so a run killed part-way resumes where its file stops (it is
rewritten atomically every ``--every`` scenes) and gives the same scenes.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from hoi_perception.spatialprior.prior import object_kind

FIELDS = ("joints", "object_keypoints", "extents", "kinds", "object_ids")


def sample(index: int, seed: int, split: str = "train"):
    from hoi_perception.synth.engine import _object_source, _poser_factory
    from hoi_perception.synth.scenes import SceneRejected, SceneSampler

    rng = np.random.default_rng([seed, index])
    try:
        scene = SceneSampler(_poser_factory, _object_source(split), rng).sample()
    except SceneRejected:
        return None
    obj = scene.obj
    return {"joints": scene.joints.astype(np.float32), "object_keypoints": obj.to_world(obj.asset.keypoints).astype(np.float32),
            "extents": np.asarray(obj.asset.extents, np.float32), "kinds": object_kind(obj.asset.id),
            "object_ids": obj.asset.id}


def _write(path: Path, rows: list[dict], tried: int) -> None:
    from hoi_perception.atomic_files import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, tried=tried, **{k: np.stack([r[k] for r in rows]) if k not in ("kinds", "object_ids")
                                         else np.array([r[k] for r in rows]) for k in FIELDS})

    atomic_write(path, write)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, required=True, help="scenes to try")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--every", type=int, default=250)
    args = ap.parse_args(argv)
    out = Path(args.out)
    rows, start = [], 0
    if out.is_file():
        with np.load(out, allow_pickle=False) as z:
            start = int(z["tried"])
            rows = [{k: (str(z[k][i]) if k in ("kinds", "object_ids") else z[k][i]) for k in FIELDS}
                    for i in range(len(z["kinds"]))]
        print(f"resuming after {start} tried scenes ({len(rows)} kept)")
    t0 = time.time()
    for i in range(start, args.n):
        row = sample(i, args.seed)
        if row is not None and row["kinds"] is not None:
            rows.append(row)
        if (i + 1) % args.every == 0 or i + 1 == args.n:
            _write(out, rows, i + 1)
            print(f"{i + 1}/{args.n} tried, {len(rows)} kept, {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
