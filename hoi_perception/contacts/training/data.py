"""Training tensors for the contact network from the engine's full-body shards.

Per scene: view A's crop (as the full-body network sees it), the body's and hands' 64 joints in the crop, the object's
kind, and the engine's contact labels: anny's full-mesh vertices within 5 cm of the object
(`body_contact_bits`) and the template subset vertices touching the body (`object_contact`).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from hoi_perception.assets import object_library
from hoi_perception.fullbody.training.data import _view_crop, manifest_hash
from hoi_perception.pipeline.types import InputError
from hoi_perception.spatialprior.prior import object_kind
from hoi_perception.synth.shards import ShardSet

from ..canonical import object_canvas
from ..model import N_BODY_VERTICES
from ..net import N_JOINTS


def load_contact_scenes(roots, crop: int = 96, max_items: int | None = None) -> dict:
    """Stacked tensors of every scene of the shard folders whose view A shows person and object."""
    cols: dict[str, list] = {"image": [], "joints_2d": [], "body_contact": [], "object_contact": [], "object_id": [],
                             "index": []}
    skipped = 0
    for root in roots:
        shards = ShardSet(root)
        n = len(shards) if max_items is None else min(len(shards), max_items)
        for i in range(n):
            a, meta, _ = shards.get(i)
            try:
                c = _view_crop(a, 0, crop)
            except InputError:
                skipped += 1
                continue
            cols["image"].append(torch.as_tensor(c.image, dtype=torch.float16))
            j2 = a["joints_2d"][0][:N_JOINTS] * c.affine[0, 0] + c.affine[:, 2]
            cols["joints_2d"].append(torch.as_tensor(j2 / crop, dtype=torch.float32))
            bits = np.unpackbits(a["body_contact_bits"])[:N_BODY_VERTICES]
            cols["body_contact"].append(torch.as_tensor(bits, dtype=torch.uint8))
            cols["object_contact"].append(torch.as_tensor(a["object_contact"].astype(np.float32)))
            cols["object_id"].append(meta["object_id"])
            cols["index"].append(i)
    out = {k: (torch.stack(v) if k not in ("object_id", "index") else v) for k, v in cols.items()}
    hashes = [manifest_hash(r) for r in roots]
    out["meta"] = {"sets": [Path(r).name for r in roots], "count": len(out["object_id"]), "skipped": skipped,
                   "manifest_sha256": hashlib.sha256("".join(hashes).encode()).hexdigest()}
    return out


def object_canvases(ids) -> dict:
    """The object canvases of library objects, stacked: images (N, J, 4, S, S), lift index/weight (N, 64, W)."""
    lib = object_library()
    canv = [object_canvas(lib.get(i).surface_points, lib.get(i).subset_vertices) for i in ids]
    return {"ids": list(ids), "images": torch.as_tensor(np.stack([c.images for c in canv])),
            "index": torch.as_tensor(np.stack([c.lift.index for c in canv])),
            "weight": torch.as_tensor(np.stack([c.lift.weight for c in canv])),
            "owner": torch.as_tensor(np.stack([c.pixel_owner[..., 0] for c in canv])),
            "kinds": [object_kind(i) for i in ids]}
