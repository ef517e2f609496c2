"""A compact, exportable anny layer for the network: parameters -> 431 subset vertices + joints.

The network needs the posed body at CrossHOI's downsampled resolution (431 vertices, as in
CONTHO/CrossHOI) plus the 22 body and 2 x 21 hand joints, inside the graph that is exported to
ONNX. The full anny forward (13,718 vertices, phenotype blendshapes, 104 bones) is slow on one
CPU core and is not needed there. This module reproduces it on the subset only:

* rest geometry (subset vertices, fingertip vertices, the 104 bone heads): linear in the
  tensor product of anny's phenotype hat functions, so tabulated exactly at the 288 anchor
  combinations (`build_tables`, written to `data/subset_body_anny.npz`;
  ``python -m hoi_perception.fullbody.subset_body --write`` rebuilds it and prints the error
  against the full anny forward, which a test also checks);
* anny's "world-orient" kinematics collapsed on the governing canonical joints: every bone b
  rotates with the global rotation G of its governing joint, its head follows its parent
  (h_b = h_parent + G_parent (h_b^rest - h_parent^rest)), the root joint sits at `transl`;
* linear blend skinning with anny's own weights restricted to the subset vertices.

Same conventions as `hoi_perception.body` (REP 103, metres, 6D = first two matrix columns).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from hoi_perception.geometry import rot6d_to_matrix

TABLE_PATH = Path(__file__).resolve().parent / "data" / "subset_body_anny.npz"
N_SHAPE = 6
N_POSE = 51


# anny's phenotype anchors within [0, 1] (gender, age, muscle, weight, height, proportions): its
# blendshape coefficients are products of piecewise-linear hat functions on these anchors, so the
# rest geometry is exactly linear in their tensor product (2*4*3*3*2*2 = 288 features).
ANCHORS = ((0.0, 1.0), (0.0, 1 / 3, 2 / 3, 1.0), (0.0, 0.5, 1.0), (0.0, 0.5, 1.0), (0.0, 1.0), (0.0, 1.0))


def grid_shapes() -> np.ndarray:
    """(288, 6) anchor combinations, in the order of `shape_features`' columns."""
    return np.stack(np.meshgrid(*ANCHORS, indexing="ij"), axis=-1).reshape(-1, N_SHAPE).astype(np.float32)


def shape_features(shape: torch.Tensor, anchors: list[torch.Tensor] | None = None) -> torch.Tensor:
    """(B, 6) phenotypes in [0, 1] -> (B, 288) tensor product of hat functions (rows sum to 1).
    ``anchors``: ANCHORS as tensors on the shape's device (else made here, a host-to-device copy)."""
    feats = None
    for i, knots in enumerate(ANCHORS):
        k = anchors[i] if anchors is not None else torch.tensor(knots, dtype=shape.dtype, device=shape.device)
        step = knots[1] - knots[0]
        hat = torch.clamp(1.0 - (shape[:, i:i + 1] - k).abs() / step, min=0.0)  # (B, n_i)
        feats = hat if feats is None else (feats[:, :, None] * hat[:, None, :]).reshape(shape.shape[0], -1)
    return feats


class SubsetBody(torch.nn.Module):
    """forward(shape (B,6), global_orient (B,6), pose (B,51,6), transl (B,3)) ->
    (vertices (B,431,3), joints (B,22,3), hand_joints (B,2,21,3)), REP 103 frame of `transl`."""

    def __init__(self, path: Path = TABLE_PATH) -> None:
        super().__init__()
        if not Path(path).is_file():
            raise FileNotFoundError(f"subset body tables missing: {path} (python -m hoi_perception.fullbody.subset_body --write)")
        t = np.load(path, allow_pickle=False)
        f = lambda k, dt=torch.float32: torch.as_tensor(t[k], dtype=dt)  # noqa: E731
        self.register_buffer("vert_poly", f("vert_poly"))      # (288, Nv*3)
        self.register_buffer("head_poly", f("head_poly"))      # (288, Nb*3)
        self.register_buffer("weights", f("weights"))          # (Nv, Nb)
        self.register_buffer("governor", f("governor", torch.long))  # (Nb,)
        self.register_buffer("conj", f("conj"))                # (52, 3, 3)
        self.slot_parent = [int(x) for x in t["slot_parent"]]
        self.bone_parent = [int(x) for x in t["bone_parent"]]
        self._register_levels([np.flatnonzero(t["bone_level"] == lv) for lv in range(int(t["bone_level"].max()) + 1)])
        for i, knots in enumerate(ANCHORS):
            self.register_buffer(f"anchors_{i}", torch.tensor(knots, dtype=torch.float32), persistent=False)
        self.register_buffer("joint_bone", f("joint_bone", torch.long))  # (22,)
        self.register_buffer("hand_src", f("hand_src", torch.long))      # (2, 21) index into [heads; verts]
        self.n_subset = int(t["n_subset"])
        self.nv = self.weights.shape[0]
        self.nb = self.weights.shape[1]

    def _register_levels(self, levels: list[np.ndarray]) -> None:
        """The bones level by level (root first) as index buffers, so that forward makes no host
        tensors (a GPU forward then neither copies nor syncs, and can be captured as a CUDA graph):
        per level its bones, their parents, and where the parents' heads sit in the growing list
        of heads; finally each bone's place in that list."""
        pos = {int(i): k for k, i in enumerate(levels[0])}
        self.n_levels = len(levels)
        self.register_buffer("level_0", torch.as_tensor(levels[0], dtype=torch.long), persistent=False)
        for k, lv in enumerate(levels[1:], start=1):
            par = [self.bone_parent[int(i)] for i in lv]
            self.register_buffer(f"level_{k}", torch.as_tensor(lv, dtype=torch.long), persistent=False)
            self.register_buffer(f"level_{k}_parent", torch.as_tensor(par, dtype=torch.long), persistent=False)
            self.register_buffer(f"level_{k}_parent_slot", torch.as_tensor([pos[q] for q in par], dtype=torch.long),
                                 persistent=False)
            for i in lv:
                pos[int(i)] = len(pos)
        self.register_buffer("bone_slot", torch.as_tensor([pos[i] for i in range(len(self.bone_parent))], dtype=torch.long),
                             persistent=False)

    def rest(self, shape: torch.Tensor):
        feats = shape_features(shape, [getattr(self, f"anchors_{i}").to(shape.dtype) for i in range(len(ANCHORS))])
        verts = (feats @ self.vert_poly).reshape(-1, self.nv, 3)
        heads = (feats @ self.head_poly).reshape(-1, self.nb, 3)
        return verts, heads

    def global_rotations(self, global_orient: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        local = torch.cat([rot6d_to_matrix(global_orient)[:, None], rot6d_to_matrix(pose)], dim=1)
        local = self.conj @ local @ self.conj.transpose(-1, -2)
        out = [local[:, 0]]
        for i in range(1, local.shape[1]):
            out.append(out[self.slot_parent[i]] @ local[:, i])
        return torch.stack(out, dim=1)  # (B, 52, 3, 3)

    def forward(self, shape, global_orient, pose, transl):
        b = shape.shape[0]
        rv, rh = self.rest(shape)
        g = self.global_rotations(global_orient, pose)[:, self.governor]  # (B, Nb, 3, 3)
        # Heads level by level (constant gathers only: exports to plain ONNX ops).
        root = self.level_0
        cat = transl[:, None, :] + (rh[:, root] - rh[:, root[:1]])
        for k in range(1, self.n_levels):
            lv, par = getattr(self, f"level_{k}"), getattr(self, f"level_{k}_parent")
            off = (g[:, par] @ (rh[:, lv] - rh[:, par])[..., None])[..., 0]
            cat = torch.cat([cat, cat[:, getattr(self, f"level_{k}_parent_slot")] + off], dim=1)
        posed = cat[:, self.bone_slot]
        # LBS: v = sum_b w_vb (G_b (v_rest - h_b_rest) + h_b_posed)
        trans = posed - (g @ rh[..., None])[..., 0]  # (B, Nb, 3)
        a = torch.cat([g.reshape(b, self.nb, 9), trans], dim=2)  # (B, Nb, 12)
        blend = torch.einsum("vn,bnk->bvk", self.weights, a)  # (B, Nv, 12)
        rot = blend[..., :9].reshape(b, self.nv, 3, 3)
        verts = (rot @ rv[..., None])[..., 0] + blend[..., 9:]
        joints = posed[:, self.joint_bone]
        both = torch.cat([posed, verts], dim=1)
        hand = both[:, self.hand_src.reshape(-1)].reshape(b, 2, 21, 3)
        return verts[:, : self.n_subset], joints, hand


# ---------------------------------------------------------------------------------------------
# table building (needs anny; run once, output shipped)


def build_tables(seed: int = 0) -> tuple[dict, dict]:
    from hoi_perception.body import load_body_model
    from hoi_perception.body.anny_model import ANNY_TO_REP103
    from hoi_perception.body.vertex_subset import load_subset

    model = load_body_model("anny", "body")
    m = model.anny
    subset = load_subset("body")
    idx_sub = subset.indices.numpy()
    hand_vert = model._hand_vert_idx.numpy()
    hand_is_vert = model._hand_is_vert.numpy()
    extra = sorted(set(hand_vert[hand_is_vert].tolist()))
    vert_ids = np.concatenate([idx_sub, np.array(extra, dtype=np.int64)])
    C = ANNY_TO_REP103.to(torch.float32)
    shapes = torch.as_tensor(grid_shapes())
    with torch.no_grad():
        vs, hs = [], []
        for chunk in shapes.split(96):
            rest = m.get_rest_model(model._blend_coeffs(m, chunk))
            vs.append(rest["rest_vertices"][:, vert_ids] @ C.T)
            hs.append(rest["rest_bone_heads"] @ C.T)
        sol_v = torch.cat(vs).reshape(len(shapes), -1)
        sol_h = torch.cat(hs).reshape(len(shapes), -1)
        # check on random shapes that the tensor-product table reproduces anny's rest model
        test = torch.as_tensor(np.random.default_rng(seed).random((64, N_SHAPE)), dtype=torch.float32)
        rest = m.get_rest_model(model._blend_coeffs(m, test))
        f = shape_features(test)
        fit_err_v = ((f @ sol_v).reshape(64, -1, 3) - rest["rest_vertices"][:, vert_ids] @ C.T).norm(dim=-1)
        fit_err_h = ((f @ sol_h).reshape(64, -1, 3) - rest["rest_bone_heads"] @ C.T).norm(dim=-1)
    parents = [int(p) for p in m.bone_parents]
    level = np.zeros(len(parents), dtype=np.int64)
    for i, p in enumerate(parents):
        level[i] = 0 if p < 0 else level[p] + 1
    n_head = len(parents)
    pos = {int(vid): n_head + k for k, vid in enumerate(vert_ids)}
    hand_src = np.where(hand_is_vert, np.vectorize(lambda x: pos.get(int(x), 0))(hand_vert), model._hand_bone_idx.numpy())
    tables = dict(
        vert_poly=sol_v.float().numpy(), head_poly=sol_h.float().numpy(),
        weights=m.dense_vertex_bone_weights[vert_ids].float().numpy() if m.dense_vertex_bone_weights.shape[0] != len(parents)
        else m.dense_vertex_bone_weights.T[vert_ids].float().numpy(),
        governor=model._governor.numpy(), conj=model._conj.float().numpy(),
        slot_parent=np.array(model._slot_parent), bone_parent=np.array(parents), bone_level=level,
        joint_bone=model._joint_bone_idx.numpy(), hand_src=hand_src.astype(np.int64),
        n_subset=np.array(len(idx_sub)), vert_ids=vert_ids)
    info = {"fit_vertex_mean_mm": float(fit_err_v.mean() * 1e3), "fit_vertex_max_mm": float(fit_err_v.max() * 1e3),
            "fit_head_mean_mm": float(fit_err_h.mean() * 1e3), "fit_head_max_mm": float(fit_err_h.max() * 1e3)}
    return tables, info


def compare_with_anny(layer: SubsetBody, n: int = 16, seed: int = 1) -> dict:
    """Max/mean distance (mm) between this layer and the full anny forward on random params."""
    from hoi_perception.body import BodyParams, load_body_model
    from hoi_perception.body.vertex_subset import load_subset
    from hoi_perception.geometry import axis_angle_to_matrix, matrix_to_rot6d

    model = load_body_model("anny", "body")
    g = torch.Generator().manual_seed(seed)
    shape = torch.rand(n, 6, generator=g)
    aa = torch.randn(n, 51, 3, generator=g) * 0.3
    go = torch.randn(n, 3, generator=g)
    tr = torch.randn(n, 3, generator=g)
    with torch.no_grad():
        ref = model(BodyParams(shape=shape, pose=aa, global_orient=go, transl=tr))
        v, j, hj = layer(shape, matrix_to_rot6d(axis_angle_to_matrix(go)), matrix_to_rot6d(axis_angle_to_matrix(aa)), tr)
    rv = load_subset("body").downsample(ref.vertices)
    dv = (v - rv).norm(dim=-1) * 1e3
    dj = (j - ref.joints).norm(dim=-1) * 1e3
    dh = (hj - ref.hand_joints).norm(dim=-1) * 1e3
    return {"vertex_mean_mm": float(dv.mean()), "vertex_max_mm": float(dv.max()),
            "joint_max_mm": float(dj.max()), "hand_joint_max_mm": float(dh.max())}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rebuild and write the tables")
    args = ap.parse_args(argv)
    if args.write:
        tables, info = build_tables()
        TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
        tmp = TABLE_PATH.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **tables)
        tmp.replace(TABLE_PATH)
        print("fit:", info)
    print("vs anny:", compare_with_anny(SubsetBody()))


if __name__ == "__main__":
    main()
