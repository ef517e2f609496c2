"""Horizontal-flip averaging at inference: one more network pass on the mirrored crop.

Mirroring the crop about its vertical centre line, with the principal point mirrored too
(cx' = S - 1 - cx in pixels, pixel centres at integers), is exactly the image of the scene
reflected through the camera's y-z plane (x -> -x in the optical frame). The anny mesh and its
skeleton are mirror-symmetric (left <-> right, every partner within 1e-4 m, checked), so the mirrored pass's body,
reflected back and re-indexed through the mirror maps, is a second estimate of the same body;
the two are averaged on the full mesh (the 431-vertex subset is not symmetric).

The object keeps the unmirrored pass's orientation and per-vertex order, because a reflected
template is not a rotated one for a chiral object; only its centroid and its size (both
unchanged by a reflection) are averaged. Body shape and pose parameters stay the unmirrored
pass's: they describe the vertices before averaging.

The merged outputs are exactly mirror-equivariant: the merge for a mirrored crop is the
reflection of the merge for the crop (tested), whatever the network has learned.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from .model import N_BODY_V

REFLECT_X = np.array([-1.0, 1.0, 1.0])  # optical frame: x right, y down, z forward
# the network outputs `merge_flipped` reads from each pass
MERGE_INPUTS = ("body_vertices", "contact", "joints", "hand_joints", "body_transl", "object_vertices")
SYMMETRY_TOLERANCE_M = 1e-4


@dataclass(frozen=True)
class MirrorMaps:
    """Index maps to the left/right partner: of every full-mesh vertex, body joint and hand joint
    (hand joints flattened, left hand first), so that mirrored[i] = reflect(original[map[i]])."""

    vertices: np.ndarray  # (13718,)
    joints: np.ndarray    # (22,)
    hand_joints: np.ndarray  # (42,)


def partner_map(points: np.ndarray, lateral_axis: int) -> np.ndarray:
    """Index of each rest point's mirror image across the body's sagittal plane (lateral axis = 0);
    raises if the points are not mirror-symmetric (a map would then average unlike points)."""
    from scipy.spatial import cKDTree

    p = np.asarray(points, np.float64)
    r = p.copy()
    r[:, lateral_axis] = -r[:, lateral_axis]
    dist, idx = cKDTree(p).query(r)
    if dist.max() > SYMMETRY_TOLERANCE_M or not np.array_equal(idx[idx], np.arange(len(p))):
        raise ValueError(f"rest geometry is not left/right symmetric (worst partner {dist.max():.2e} m away)")
    return idx


@functools.lru_cache(maxsize=1)
def mirror_maps() -> MirrorMaps:
    """From anny's rest mesh (REP 103 body frame: y points left) and the network's rest skeleton."""
    from hoi_perception.assets import body_model

    from .subset_body import SubsetBody

    bm = body_model()
    eye6 = torch.tensor([[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]])
    with torch.no_grad():
        rest = bm(bm.rest_params(1)).vertices[0].numpy()
        _, joints, hands = SubsetBody()(torch.full((1, 6), 0.5), eye6, eye6[:, None].repeat(1, 51, 1), torch.zeros(1, 3))
    return MirrorMaps(partner_map(rest, 1), partner_map(joints[0].numpy(), 1),
                      partner_map(hands[0].reshape(-1, 3).numpy(), 1))


def flip_inputs(image: np.ndarray, intrinsics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, C, S, S) crops and (B, 4) [fx, fy, cx, cy] / S -> the mirrored crops and their intrinsics."""
    size = image.shape[-1]
    k = np.array(intrinsics, dtype=np.float32, copy=True)
    k[:, 2] = (size - 1) / size - k[:, 2]
    return np.ascontiguousarray(image[..., ::-1]), k


def _reflect(points: np.ndarray) -> np.ndarray:
    return (np.asarray(points, np.float64) * REFLECT_X).astype(np.float32)


def _centre_and_size(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = points.mean(axis=-2, keepdims=True)
    return c, np.sqrt(((points - c) ** 2).sum(-1).mean(-1))[..., None, None]


def full_body(out: dict, subset) -> tuple[np.ndarray, np.ndarray]:
    """Network outputs (batch first) -> full-mesh vertices (B, V, 3) and body contact (B, V)."""
    # one upsampling of vertices and contact together: the gather dominates, not the channels
    both = np.concatenate([np.asarray(out["body_vertices"], np.float32),
                           np.asarray(out["contact"][:, :N_BODY_V, None], np.float32)], axis=-1)
    with torch.no_grad():  # on the subset's device (the GPU's where the network runs there)
        full = subset.upsample(torch.as_tensor(both).to(subset.up_index.device)).cpu().numpy()
    return full[..., :3], np.clip(full[..., 3], 0.0, 1.0)


def merge_flipped(out: dict, out_flipped: dict, subset, maps: MirrorMaps | None = None) -> dict:
    """Average the pass on the crop with the pass on its mirror image (both dicts of batch-first
    network outputs). Returns `out` with full-mesh "body_vertices_full" and "body_contact_full"
    added and joints, hand joints, root and object vertices replaced by the averages."""
    maps = maps or mirror_maps()
    b = len(out["body_vertices"])
    verts, contact = full_body({k: np.concatenate([out[k], out_flipped[k]]) for k in ("body_vertices", "contact")}, subset)
    verts, verts_f, contact, contact_f = verts[:b], verts[b:], contact[:b], contact[b:]
    merged = dict(out)
    merged["body_vertices_full"] = (verts + _reflect(verts_f[:, maps.vertices])) / 2
    merged["body_contact_full"] = (contact + contact_f[:, maps.vertices]) / 2
    merged["joints"] = (out["joints"] + _reflect(out_flipped["joints"][:, maps.joints])) / 2
    hands_f = np.asarray(out_flipped["hand_joints"]).reshape(b, -1, 3)[:, maps.hand_joints]
    merged["hand_joints"] = (out["hand_joints"] + _reflect(hands_f).reshape(out["hand_joints"].shape)) / 2
    merged["body_transl"] = (out["body_transl"] + _reflect(out_flipped["body_transl"])) / 2
    obj = np.asarray(out["object_vertices"], np.float32)
    c0, s0 = _centre_and_size(obj)
    c1, s1 = _centre_and_size(_reflect(out_flipped["object_vertices"]))
    merged["object_vertices"] = ((c0 + c1) / 2 + (obj - c0) * ((s0 + s1) / (2 * np.maximum(s0, 1e-9)))).astype(np.float32)
    return merged
