"""Arrangements from the engine's full-body scenes, for the flow to see from virtual viewports.

Each scene gives the body's 22 joints and the object's 9 keypoints (world frame), its kind and its
template's extents. Training never reads a 3D label as a target: every batch projects the scene
into random viewports (`layout.random_viewports`) and the flow sees only those 2D positions and the
viewport's place, what a camera at that place would record. (The paper groups separate photos of
one interaction into views; our views of one scene are that grouping without its errors, the
paper's "ground-truth grouping" variant.)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hoi_perception.spatialprior import layout
from hoi_perception.spatialprior.prior import condition, object_kind


def _read_npz(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: (z[k].tolist() if k in ("kinds", "object_ids") else z[k]) for k in z.files if k != "tried"}


def load_arrangements(roots, cache: Path | None = None) -> dict:
    """joints (N, 22, 3), object_keypoints (N, 9, 3), kinds [N], extents (N, 3), object_ids [N] from
    full-body shard folders and scene files (`scenes.py`, .npz); ``cache`` keeps the shard folders' part."""
    roots = [str(r) for r in roots]
    files = [r for r in roots if r.endswith(".npz")]
    folders = [r for r in roots if not r.endswith(".npz")]
    parts = []
    if folders:
        parts.append(_read_npz(cache) if (cache is not None and Path(cache).is_file()) else _from_shards(folders, cache))
    parts += [_read_npz(f) for f in files]
    out = {k: (sum((p[k] for p in parts), []) if k in ("kinds", "object_ids") else np.concatenate([p[k] for p in parts]))
           for k in parts[0]}
    out["from_shards"] = len(parts[0]["kinds"]) if folders else 0  # they come first; validation is drawn from them
    return out


def _from_shards(roots, cache: Path | None) -> dict:
    from hoi_perception.assets import object_library
    from hoi_perception.synth.shards import ShardSet

    lib = object_library()
    cols = {"joints": [], "object_keypoints": [], "kinds": [], "extents": [], "object_ids": []}
    for root in roots:
        shards = ShardSet(root)
        for i in range(len(shards)):
            a, meta, _ = shards.get(i)
            oid = meta["object_id"]
            kind = object_kind(oid)
            if kind is None:
                continue
            cols["joints"].append(a["body_joints"].astype(np.float32))
            cols["object_keypoints"].append(a["object_keypoints"].astype(np.float32))
            cols["kinds"].append(kind)
            cols["extents"].append(np.asarray(lib.get(oid).extents, np.float32))
            cols["object_ids"].append(oid)
    out = {k: (np.stack(v) if k not in ("kinds", "object_ids") else v) for k, v in cols.items()}
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **{k: (np.asarray(v) if isinstance(v, list) else v) for k, v in out.items()})
    return out


def body_frame_arrays(data: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The scenes' joints (minus the pelvis) and object keypoints in their body frames."""
    joints = torch.as_tensor(data["joints"])
    origin, rot = layout.body_frame(joints)
    body = layout.to_body_frame(joints[:, layout.LAYOUT_JOINTS], origin, rot)
    obj = layout.to_body_frame(torch.as_tensor(data["object_keypoints"]), origin, rot)
    return body, obj


def views(body: torch.Tensor, obj: torch.Tensor, one_hot: torch.Tensor, extents: torch.Tensor,
          cameras: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scenes in body frames (B, 21, 3) and (B, 9, 3), their kinds (B, K) and extents (B, 3), one viewport
    each (B, 3) -> the flow's variable (B, 18) and condition (B, C)."""
    x = layout.project(obj, cameras).reshape(len(obj), -1)
    return x, condition(layout.project(body, cameras), cameras, one_hot, extents)
