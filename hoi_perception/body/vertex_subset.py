"""Fixed downsampled vertex subsets for networks, and the way back to the full mesh.

A subset (like CrossHOI's 431 of SMPL's 6,890 vertices) is chosen once, deterministically,
by farthest-point sampling on the rest mesh (mid shape, rest pose); for the full body the
hands get their own share so that the fingers are not left with one point each.

Upsampling: every full-mesh vertex is a fixed affine combination (weights sum to 1) of its
K nearest subset vertices (at rest). The weights are fitted by least squares on random
shapes and poses of the model itself, regularised toward inverse-distance weights, so the
map is exact for rigid motions and close to exact for the local rotations of articulation.
Subsets are stored in ``hoi_perception/data/body_subset_<backend>_<kind>.npz`` and are
rebuilt with ``python -m hoi_perception.body.vertex_subset --write``.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from hoi_perception.body.interface import BodyModel, BodyParams
from hoi_perception.paths import PACKAGE_DIR

DATA_DIR = PACKAGE_DIR / "data"
SUBSET_SIZES = {"body": 431, "hand_left": 128, "hand_right": 128}
BODY_HAND_SHARE = 48  # subset vertices per hand inside the 431 of the full body
NEIGHBOURS = 8
FIT_SEED, EVAL_SEED = 0, 1


@dataclasses.dataclass(frozen=True)
class VertexSubset:
    """indices (S,) into the full mesh; up_index/up_weight (V, K): full vertex v =
    sum_k up_weight[v, k] * subset[up_index[v, k]]; edges (E, 2): subset vertices whose
    surface regions touch on the full mesh (a graph for mesh networks)."""

    indices: torch.Tensor
    up_index: torch.Tensor
    up_weight: torch.Tensor
    edges: torch.Tensor

    @property
    def num_subset(self) -> int:
        return int(self.indices.shape[0])

    @property
    def num_full(self) -> int:
        return int(self.up_index.shape[0])

    def to(self, device=None, dtype=None) -> "VertexSubset":
        return VertexSubset(
            self.indices.to(device),
            self.up_index.to(device),
            self.up_weight.to(device=device, dtype=dtype),
            self.edges.to(device),
        )

    def downsample(self, vertices: torch.Tensor) -> torch.Tensor:
        """(B, V, 3) full mesh -> (B, S, 3) subset."""
        if vertices.shape[-2] != self.num_full:
            raise ValueError(f"expected {self.num_full} vertices, got {vertices.shape[-2]}")
        return vertices[..., self.indices, :]

    def upsample(self, subset_vertices: torch.Tensor) -> torch.Tensor:
        """(B, S, 3) subset -> (B, V, 3) full mesh (differentiable, linear)."""
        if subset_vertices.shape[-2] != self.num_subset:
            raise ValueError(f"expected {self.num_subset} subset vertices, got {subset_vertices.shape[-2]}")
        w = self.up_weight.to(subset_vertices)
        gathered = subset_vertices[..., self.up_index, :]  # (B, V, K, 3)
        return (gathered * w[..., None]).sum(-2)


def subset_path(kind: str, backend: str = "anny") -> Path:
    return DATA_DIR / f"body_subset_{backend}_{kind}.npz"


@functools.lru_cache(maxsize=None)
def _load_npz(path: str) -> VertexSubset:
    with np.load(path) as z:
        return VertexSubset(
            indices=torch.from_numpy(z["indices"].astype(np.int64)),
            up_index=torch.from_numpy(z["up_index"].astype(np.int64)),
            up_weight=torch.from_numpy(z["up_weight"].astype(np.float32)),
            edges=torch.from_numpy(z["edges"].astype(np.int64)),
        )


def load_subset(kind: str = "body", backend: str = "anny", device="cpu") -> VertexSubset:
    """The shipped subset of a model kind ("body", "hand_left", "hand_right")."""
    path = subset_path(kind, backend)
    if not path.is_file():
        raise FileNotFoundError(
            f"no vertex subset for {backend}/{kind} at {path}; "
            "build it with: python -m hoi_perception.body.vertex_subset --write"
        )
    return _load_npz(str(path)).to(device)


# --- construction -----------------------------------------------------------------------
def farthest_point_sampling(points: np.ndarray, count: int) -> np.ndarray:
    """Deterministic FPS: start at the point farthest from the centroid."""
    if count > len(points):
        raise ValueError(f"cannot sample {count} of {len(points)} points")
    first = int(np.argmax(((points - points.mean(0)) ** 2).sum(1)))
    chosen = [first]
    dist = ((points - points[first]) ** 2).sum(1)
    for _ in range(count - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((points - points[nxt]) ** 2).sum(1))
    return np.asarray(chosen, dtype=np.int64)


def _hand_vertex_masks(model) -> list[np.ndarray]:
    """Full-body vertices skinned mostly to the left / right hand bones (anny rig names)."""
    a = model.anny
    dominant = a.vertex_bone_indices.gather(1, a.vertex_bone_weights.argmax(1, keepdim=True))[:, 0].cpu().numpy()
    masks = []
    for s in ("L", "R"):
        hand_bones = [i for i, n in enumerate(model.bone_labels) if n.endswith(f".{s}") and n.split("-")[0].split(".")[0] in ("wrist", "finger1", "finger2", "finger3", "finger4", "finger5", "metacarpal1", "metacarpal2", "metacarpal3", "metacarpal4")]
        masks.append(np.isin(dominant, hand_bones))
    return masks


def choose_indices(model: BodyModel, rest: np.ndarray) -> np.ndarray:
    size = SUBSET_SIZES[model.kind]
    if model.kind != "body":
        return np.sort(farthest_point_sampling(rest, size))
    left, right = _hand_vertex_masks(model)
    parts = []
    for mask, count in ((left, BODY_HAND_SHARE), (right, BODY_HAND_SHARE), (~(left | right), size - 2 * BODY_HAND_SHARE)):
        idx = np.nonzero(mask)[0]
        parts.append(idx[farthest_point_sampling(rest[idx], count)])
    return np.sort(np.concatenate(parts))


def random_params(model: BodyModel, batch: int, generator: torch.Generator) -> BodyParams:
    """Random shapes (uniform in [0, 1]) and poses (axis-angle, N(0, 0.3 rad) per axis for the
    body joints, N(0, 0.4 rad) for finger joints), root at the origin."""
    kw = dict(dtype=model.dtype)
    shape = torch.rand(batch, len(model.shape_labels), generator=generator, **kw)
    std = torch.full((model.num_pose_joints, 1), 0.3, **kw)
    for i, name in enumerate(model.pose_joint_names):
        if any(f in name for f in ("thumb", "index", "middle", "ring", "pinky")):
            std[i] = 0.4
    pose = torch.randn(batch, model.num_pose_joints, 3, generator=generator, **kw) * std
    zeros = torch.zeros(batch, 3, **kw)
    return BodyParams(shape=shape, pose=pose, global_orient=zeros, transl=zeros.clone())


def _sample_meshes(model: BodyModel, count: int, seed: int, batch: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    out = []
    with torch.no_grad():
        for start in range(0, count, batch):
            out.append(model(random_params(model, min(batch, count - start), g)).vertices.double())
    return torch.cat(out)


def fit_upsampling(rest: np.ndarray, indices: np.ndarray, samples: torch.Tensor, k: int = NEIGHBOURS):
    """Per full vertex: K nearest subset vertices at rest and affine weights fitted on samples."""
    from scipy.spatial import cKDTree

    sub_rest = rest[indices]
    dist, nn = cKDTree(sub_rest).query(rest, k=k)
    idw = 1.0 / np.maximum(dist, 1e-6) ** 2
    idw /= idw.sum(1, keepdims=True)
    nn_t = torch.from_numpy(nn)
    sub = samples[:, torch.from_numpy(indices)]  # (N, S, 3)
    xtx = torch.zeros(len(rest), k, k, dtype=torch.float64)
    xty = torch.zeros(len(rest), k, dtype=torch.float64)
    for n in range(samples.shape[0]):
        x = sub[n][nn_t]  # (V, K, 3)
        xtx += x @ x.transpose(1, 2)
        xty += (x * samples[n][:, None, :]).sum(-1)
    # Regularise toward inverse-distance weights; a stiff penalty makes the weights sum to 1
    # (translation invariance), which holds exactly after the final renormalisation.
    scale = xtx.diagonal(dim1=1, dim2=2).mean(1)[:, None, None]
    lam, rho = 1e-4 * scale, 1e2 * scale
    ones = torch.ones(k, dtype=torch.float64)
    a = xtx + lam * torch.eye(k, dtype=torch.float64) + rho * torch.outer(ones, ones)
    b = xty + lam[:, :, 0] * torch.from_numpy(idw) + rho[:, :, 0]
    w = torch.linalg.solve(a, b)
    w = w / w.sum(1, keepdim=True)
    return nn.astype(np.int64), w.numpy(), idw


def subset_edges(faces: np.ndarray, rest: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Edges between subset vertices whose nearest-subset regions share a mesh edge."""
    from scipy.spatial import cKDTree

    _, owner = cKDTree(rest[indices]).query(rest, k=1)
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    oe = np.sort(owner[e], axis=1)
    oe = oe[oe[:, 0] != oe[:, 1]]
    return np.unique(oe, axis=0).astype(np.int64)


def upsampling_error(model: BodyModel, subset: VertexSubset, count: int = 64, seed: int = EVAL_SEED) -> dict:
    """Error (metres) of upsample(downsample(mesh)) on random shapes and poses."""
    meshes = _sample_meshes(model, count, seed)
    rec = subset.to(dtype=torch.float64).upsample(subset.downsample(meshes))
    err = (rec - meshes).norm(dim=-1)
    return {
        "samples": count,
        "seed": seed,
        "mean_m": float(err.mean()),
        "p95_m": float(err.flatten().quantile(0.95)) if err.numel() < 2**24 else float("nan"),
        "max_m": float(err.max()),
    }


def build_subset(model: BodyModel, fit_samples: int = 192) -> tuple[VertexSubset, dict]:
    with torch.no_grad():
        rest = model(model.rest_params(1)).vertices[0].double().cpu().numpy()
    indices = choose_indices(model, rest)
    samples = _sample_meshes(model, fit_samples, FIT_SEED)
    up_index, up_weight, idw = fit_upsampling(rest, indices, samples)
    edges = subset_edges(model.faces.cpu().numpy(), rest, indices)
    subset = VertexSubset(
        torch.from_numpy(indices), torch.from_numpy(up_index), torch.from_numpy(up_weight), torch.from_numpy(edges)
    )
    idw_subset = dataclasses.replace(subset, up_weight=torch.from_numpy(idw))
    report = {
        "kind": model.kind,
        "subset": int(len(indices)),
        "full": int(len(rest)),
        "edges": int(len(edges)),
        "fitted": upsampling_error(model, subset),
        "inverse_distance": upsampling_error(model, idw_subset),
    }
    return subset, report


def save_subset(subset: VertexSubset, path: Path) -> None:
    """Atomic write of the .npz (indices int32, weights float32)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    try:
        np.savez_compressed(
            tmp,
            indices=subset.indices.numpy().astype(np.int32),
            up_index=subset.up_index.numpy().astype(np.int32),
            up_weight=subset.up_weight.numpy().astype(np.float32),
            edges=subset.edges.numpy().astype(np.int32),
        )
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the file ships with the package
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    _load_npz.cache_clear()


def main(argv=None) -> None:
    from hoi_perception.body import load_body_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", nargs="+", default=list(SUBSET_SIZES))
    ap.add_argument("--write", action="store_true", help="build the subsets and write the .npz files")
    args = ap.parse_args(argv)
    for kind in args.kinds:
        model = load_body_model("anny", kind=kind)
        if args.write:
            subset, report = build_subset(model)
            save_subset(subset, subset_path(kind))
        else:
            subset = load_subset(kind)
            report = {"kind": kind, "subset": subset.num_subset, "fitted": upsampling_error(model, subset)}
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
