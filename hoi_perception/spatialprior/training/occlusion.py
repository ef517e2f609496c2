"""Mean occlusion maps: how often each body vertex overlaps the object in a camera's image, per
object kind, over the engine's scenes seen from random viewports (paper 002's contact candidates).

    python -m hoi_perception.spatialprior.training.occlusion --data data/fb_prior901,data/fb_seg902 \\
        --out models/spatialprior/occlusion.npz

Like the flow, this reads only what cameras would record: for each viewport, which of the body's 431
subset vertices (`body.vertex_subset`, "body") project onto the object's silhouette (within 1.5x the
spacing of 256 projected surface samples of the object). The object side has no map: templates differ
in their vertices, so at run time the object's candidates come from the image alone.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from scipy.spatial import cKDTree

from hoi_perception.spatialprior import layout
from hoi_perception.spatialprior.prior import object_kind

VIEWS_PER_SCENE = 16
OBJECT_POINTS = 256


def scene_points(roots):
    """Per scene: kind, joints (22, 3), body subset vertices (431, 3), object surface samples (256, 3)."""
    from hoi_perception.assets import object_library
    from hoi_perception.synth.shards import ShardSet

    lib = object_library()
    for root in roots:
        shards = ShardSet(root)
        for i in range(len(shards)):
            a, meta, _ = shards.get(i)
            kind = object_kind(meta["object_id"])
            if kind is None:
                continue
            asset = lib.get(meta["object_id"])
            pts = asset.surface_points[np.linspace(0, len(asset.surface_points) - 1, OBJECT_POINTS).astype(int)]
            pose = a["object_pose"].astype(np.float64)
            obj = float(a["object_scale"]) * pts.astype(np.float64) @ pose[:3, :3].T + pose[:3, 3]
            yield kind, a["body_joints"].astype(np.float64), a["body_vertices_subset"].astype(np.float64), obj


def overlap(body_uv: np.ndarray, object_uv: np.ndarray) -> np.ndarray:
    """(431,) bool: body vertices whose image position falls on the object's (sampled) silhouette."""
    tree = cKDTree(object_uv)
    spacing = np.median(tree.query(object_uv, k=2)[0][:, 1])
    return tree.query(body_uv)[0] < 1.5 * spacing


def mean_maps(roots, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for kind, joints, body, obj in scene_points(roots):
        j = torch.as_tensor(joints)
        origin, rot = layout.body_frame(j)
        cams = layout.random_viewports((VIEWS_PER_SCENE,), g).double()
        b = layout.project(layout.to_body_frame(torch.as_tensor(body), origin, rot)[None], cams).numpy()
        o = layout.project(layout.to_body_frame(torch.as_tensor(obj), origin, rot)[None], cams).numpy()
        hits = np.mean([overlap(b[v], o[v]) for v in range(VIEWS_PER_SCENE)], axis=0)
        sums[kind] = sums.get(kind, 0.0) + hits
        counts[kind] = counts.get(kind, 0) + 1
    kinds = sorted(sums)
    return kinds, np.stack([sums[k] / counts[k] for k in kinds]).astype(np.float32), np.array([counts[k] for k in kinds])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    kinds, maps, counts = mean_maps(args.data.split(","), args.seed)
    from hoi_perception.atomic_files import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, kinds=np.array(kinds), body=maps, scenes=counts, subset=np.array("body"))

    atomic_write(Path(args.out), write)
    for k, m, c in zip(kinds, maps, counts):
        print(f"{k}: {c} scenes, body vertices overlapping in > 10 % of views: {int((m > 0.1).sum())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
