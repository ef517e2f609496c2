"""What the contact network sees of the body in training: the shipped full-body network's own prediction.

At run time the joints and the per-vertex evidence come from the body the pipeline has (fitted to the
front end, or the network's); the engine's true body would be a cleaner input than any camera gives.
So each training scene is run through the shipped full-body network (as its inference runs it:
flip-averaged where its card says so) and its 64 joints in the crop and the evidence of its full-mesh
body and its 64 object points (`contacts/evidence.py`) are kept, one file per shard folder.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml

from hoi_perception.atomic_files import atomic_write
from hoi_perception.fullbody.training.data import load_scenes, manifest_hash

from ..evidence import vertex_evidence
from ..model import joints_in_crop


def network_evidence(root, fullbody_dir: Path, cache: Path) -> dict:
    """{joints (N, 64, 2) crop units, body (N, V, 2) uint8, object (N, 64, 2) uint8, index (N,)} of a shard
    folder, from its cache file when that was made from the same manifest."""
    path = cache / f"{Path(root).name}.npz"
    digest = manifest_hash(root)
    if path.is_file():
        with np.load(path) as z:
            if str(z["manifest_sha256"]) == digest:
                return {k: z[k] for k in ("joints", "body", "object", "index")}
    from hoi_perception.benchmarks.fullbody import load_net, predict

    card = yaml.safe_load((fullbody_dir / "model_card.yaml").read_text())
    net = load_net(fullbody_dir / card["weights_torch"], card["config"])
    crop = card["config"]["crop"]
    out = {"joints": [], "body": [], "object": [], "index": []}
    data = load_scenes(root, crop, with_view_b=False)
    n = len(data["index"])
    for s in range(0, n, 256):  # the full-mesh outputs of a few hundred scenes at a time
        part = {k: (v[s:s + 256] if isinstance(v, (torch.Tensor, list)) else v) for k, v in data.items()}
        one, merged = predict(net, part, flip=bool(card.get("flip_average", False)))
        pred = merged if merged is not None else one
        for i in range(len(part["index"])):
            intr = part["intrinsics_0"][i].numpy()
            image = part["image_0"][i].float().numpy()
            out["joints"].append(joints_in_crop(pred["joints"][i], pred["hand_joints"][i], intr, crop) / crop)
            out["body"].append(quantize(vertex_evidence(pred["body_vertices_full"][i], intr, image[4])))
            out["object"].append(quantize(vertex_evidence(pred["object_vertices"][i], intr, image[3])))
            out["index"].append(int(part["index"][i]))
        print(f"{Path(root).name}: network evidence {min(s + 256, n)} of {n}", flush=True)
    arrays = {k: np.stack(v) if k != "index" else np.array(v) for k, v in out.items()}
    cache.mkdir(parents=True, exist_ok=True)
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:  # a file object: np.savez would add ".npz" to a bare path
            np.savez(fh, manifest_sha256=digest, **arrays)

    atomic_write(path, write)
    return arrays


def quantize(evidence: np.ndarray) -> np.ndarray:
    return np.round(np.clip(evidence, 0.0, 1.0) * 255).astype(np.uint8)


def dequantize(evidence) -> torch.Tensor:
    return torch.as_tensor(evidence).float() / 255.0
