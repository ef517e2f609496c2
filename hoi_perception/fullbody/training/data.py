"""Training/evaluation tensors from the data engine's full-body shards.

Each scene gives view A (index 0, the network's input) and view B (index 1, only used as the
generator's target). Targets are expressed in view A's camera optical frame.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from hoi_perception.assets import object_library
from hoi_perception.geometry import axis_angle_to_matrix, matrix_to_rot6d
from hoi_perception.pipeline.types import InputError
from hoi_perception.raster import pinhole_project
from hoi_perception.synth.engine import BODY_ID, LEFT_HAND_ID, OBJECT_ID, RIGHT_HAND_ID, decode_png
from hoi_perception.synth.shards import ShardSet

from ..preprocess import make_crop, mask_box


def manifest_hash(root) -> str:
    """sha256 of the dataset's manifest.json (identifies the exact shards used)."""
    return hashlib.sha256((Path(root) / "manifest.json").read_bytes()).hexdigest()


def train_classes() -> list[str]:
    return list(object_library().ids("train"))


def view_masks(inst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    human = (inst == BODY_ID) | (inst == LEFT_HAND_ID) | (inst == RIGHT_HAND_ID)
    return human, inst == OBJECT_ID


def visible_in_view(points_cam: np.ndarray, k: np.ndarray, depth: np.ndarray, mask: np.ndarray,
                    tol: float = 0.02) -> np.ndarray:
    """Which camera-frame points (N, 3; metres, optical frame) the view sees: they project inside the
    image onto `mask` and lie within `tol` of the rendered depth there (z-depth, metres). A point behind
    another surface, off the image or behind the camera is hidden."""
    h, w = depth.shape
    z = points_cam[:, 2]
    # NaN behind the camera; the engine's K puts pixel centres at whole numbers (OpenCV): round to the nearest
    u, v = np.rint(pinhole_project(points_cam, np.asarray(k, np.float64))).T
    inside = np.isfinite(u) & np.isfinite(v) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    ui = np.clip(np.nan_to_num(u), 0, w - 1).astype(int)
    vi = np.clip(np.nan_to_num(v), 0, h - 1).astype(int)
    return inside & mask[vi, ui] & (np.abs(z - depth[vi, ui]) < tol)


def _to_cam(points: np.ndarray, w2c: np.ndarray) -> np.ndarray:
    return points @ w2c[:3, :3].T + w2c[:3, 3]


def _view_crop(a: dict, v: int, crop: int):
    """Crop of view v; view A must show person and object (InputError otherwise)."""
    rgb = decode_png(a[f"rgb_{v}"])
    human, obj = view_masks(decode_png(a[f"instance_{v}"]))
    box = None
    if v == 1:  # the generator's target view: the object may be hidden there; frame it amodally
        amodal = decode_png(a["amodal_object_1"]) > 0
        box = mask_box(human, amodal | obj)
    return make_crop(rgb, human, obj, a["K"][v], crop, box=box, min_pixels=20 if v == 0 else 0)


def load_scenes(root, crop: int, max_items: int | None = None, with_view_b: bool = True,
                image_dtype: torch.dtype = torch.float32) -> dict:
    """All scenes of a shard folder as stacked tensors (crops for view A and B, targets in A).

    `image_dtype` is the crops' dtype (torch.float16 halves the memory of a large training set)."""
    shards = ShardSet(root)
    lib = object_library()
    classes = {c: i for i, c in enumerate(train_classes())}
    n = len(shards) if max_items is None else min(len(shards), max_items)
    cols: dict[str, list] = {}

    def put(k, v):
        cols.setdefault(k, []).append(np.asarray(v))

    skipped = []
    for i in range(n):
        a, meta, _ = shards.get(i)
        try:
            crops = [_view_crop(a, v, crop) for v in ((0, 1) if with_view_b else (0,))]
        except InputError as exc:  # e.g. a push scene whose view A sees no person: the network could not run
            skipped.append({"index": i, "why": str(exc)})
            continue
        for v, c in enumerate(crops):
            put(f"image_{v}", c.image)
            put(f"intrinsics_{v}", c.intrinsics)
            if v == 0:
                # 2D joints in normalised crop coordinates
                j2 = a["joints_2d"][0] * c.affine[0, 0] + c.affine[:, 2]
                put("joints_2d", j2 / crop)
        w2c = a["world_to_cam"][0]
        r = w2c[:3, :3]
        go = r @ axis_angle_to_matrix(torch.as_tensor(a["body_global_orient"])[None])[0].numpy()
        put("global_orient", matrix_to_rot6d(torch.as_tensor(go, dtype=torch.float32)[None])[0].numpy())
        put("pose", matrix_to_rot6d(axis_angle_to_matrix(torch.as_tensor(a["body_pose"]))).numpy())
        put("shape", a["body_shape"])
        put("transl", _to_cam(a["body_transl"][None], w2c)[0])
        put("body_vertices", _to_cam(a["body_vertices_subset"], w2c))
        put("joints", _to_cam(a["body_joints"], w2c))
        put("hand_joints", _to_cam(a["hand_joints"].reshape(-1, 3), w2c).reshape(2, 21, 3))
        put("object_vertices", _to_cam(a["object_subset_vertices"], w2c))
        cam_obj = w2c @ a["object_pose"]
        put("object_rot6d", matrix_to_rot6d(torch.as_tensor(cam_obj[:3, :3], dtype=torch.float32)[None])[0].numpy())
        put("object_transl", cam_obj[:3, 3])
        put("object_scale", a["object_scale"])
        asset = lib.get(meta["object_id"])
        put("template", asset.subset_vertices)
        put("object_class", classes.get(meta["object_id"], -1))
        put("contact", np.concatenate([a["body_contact_subset"], a["object_contact"]]).astype(np.float32))
        put("occlusion", a["occlusion_object"][0])
        put("index", i)
        cols.setdefault("object_id", []).append(meta["object_id"])
    out = {}
    for k, v in cols.items():
        if k == "object_id":
            out[k] = v
            continue
        dtype = torch.long if k in ("object_class", "index") else image_dtype if k.startswith("image_") else torch.float32
        out[k] = torch.as_tensor(np.stack(v), dtype=dtype)
        v.clear()  # the per-scene arrays are no longer needed: keep the peak near one copy
    meta = {"root": str(root), "count": n - len(skipped), "skipped": skipped, "manifest_sha256": manifest_hash(root),
            "manifest": json.loads((Path(root) / "manifest.json").read_text()).get("params", {})}
    out["meta"] = meta
    return out


def load_scene_sets(roots, crop: int, max_items: int | None = None, with_view_b: bool = True,
                    image_dtype: torch.dtype = torch.float32) -> dict:
    """`load_scenes` over several shard folders, concatenated; meta["sets"] keeps each folder's meta."""
    parts = [load_scenes(r, crop, max_items=max_items, with_view_b=with_view_b, image_dtype=image_dtype) for r in roots]
    if len(parts) == 1:
        return parts[0]
    out = {}
    for k in [k for k in parts[0] if k != "meta"]:
        # pop each part's tensor as it is concatenated, so only one extra copy of one field exists at a time
        pieces = [p.pop(k) for p in parts]
        out[k] = torch.cat(pieces) if isinstance(pieces[0], torch.Tensor) else sum(pieces, [])
        del pieces
    hashes = [p["meta"]["manifest_sha256"] for p in parts]
    out["meta"] = {"sets": [p["meta"] for p in parts], "count": sum(p["meta"]["count"] for p in parts),
                   "manifest_sha256": hashlib.sha256("".join(hashes).encode()).hexdigest()}
    return out


def batch(data: dict, idx: torch.Tensor) -> dict:
    return {k: (v[idx] if isinstance(v, torch.Tensor) else v) for k, v in data.items() if k not in ("meta", "object_id")}
