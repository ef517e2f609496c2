"""Checks of a generated dataset's labels, computed independently of the generator.

The generator places bodies with its own skeleton solver, labels contacts with a distance field
plus exact distances, and renders with pyrender. These checks start again from the stored
labels only: the body mesh is re-skinned from the stored parameters, the object mesh is placed
with the stored pose and scale, visibility comes from the stored depth map, contacts and
penetration from trimesh's own proximity queries.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from .engine import CONTACT_THRESHOLD, HAND_CONTACT_THRESHOLD, LEFT_HAND_ID, OBJECT_ID, RIGHT_HAND_ID, BODY_ID, decode_png
from .scenes import PENETRATION_TOLERANCE

DEPTH_TOLERANCE = 0.01  # m: a vertex is visible when its depth matches the rendered depth map


@dataclass
class ConsistencyReport:
    samples: int = 0
    body_visible: int = 0
    body_in_mask: int = 0
    object_visible: int = 0
    object_in_mask: int = 0
    contact_vertices: int = 0
    contact_agree: int = 0
    samples_contact_exact: int = 0
    max_penetration: float = 0.0
    samples_over_tolerance: int = 0
    problems: list = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "samples": self.samples,
            "body_vertices_in_mask": self.body_in_mask / max(self.body_visible, 1),
            "object_vertices_in_mask": self.object_in_mask / max(self.object_visible, 1),
            "contact_label_agreement": self.contact_agree / max(self.contact_vertices, 1),
            "samples_with_identical_contacts": self.samples_contact_exact / max(self.samples, 1),
            "max_penetration_m": self.max_penetration,
            "samples_over_penetration_tolerance": self.samples_over_tolerance,
            "penetration_tolerance_m": PENETRATION_TOLERANCE,
        }


def _mask_share(points_world, K, world_to_cam, depth, instance, ids) -> tuple[int, int]:
    """(visible vertices, visible vertices whose pixel carries one of `ids`)."""
    pc = points_world @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    z = pc[:, 2]
    ok = z > 1e-6
    uv = pc[ok, :2] / z[ok, None] * np.array([K[0, 0], K[1, 1]]) + K[:2, 2]
    px = np.round(uv).astype(np.int64)  # OpenCV convention: pixel centres at integers
    h, w = depth.shape
    inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    px, zz = px[inside], z[ok][inside]
    d = depth[px[:, 1], px[:, 0]]
    visible = (d > 0) & (np.abs(d - zz) < DEPTH_TOLERANCE)
    hit = np.isin(instance[px[visible, 1], px[visible, 0]], ids)
    return int(visible.sum()), int(hit.sum())


def _contacts_trimesh(points: np.ndarray, mesh: trimesh.Trimesh, threshold: float) -> np.ndarray:
    out = np.zeros(len(points), dtype=bool)
    lo, hi = mesh.bounds
    near = np.nonzero(np.all((points > lo - threshold - 1e-3) & (points < hi + threshold + 1e-3), axis=1))[0]
    if len(near):
        _, dist, _ = trimesh.proximity.closest_point(mesh, points[near])
        out[near] = dist <= threshold
    return out


def _penetration(points: np.ndarray, mesh: trimesh.Trimesh) -> float:
    lo, hi = mesh.bounds
    near = np.nonzero(np.all((points > lo) & (points < hi), axis=1))[0]
    if not len(near):
        return 0.0
    sd = trimesh.proximity.signed_distance(mesh, points[near])  # positive inside
    return float(max(0.0, sd.max()))


def placed_object_mesh(object_id: str, pose: np.ndarray, scale: float) -> trimesh.Trimesh:
    from .engine import object_library

    asset = object_library().get(object_id)
    mesh = asset.mesh.copy()
    mesh.apply_scale(float(scale))
    mesh.apply_transform(np.asarray(pose, dtype=np.float64))
    return mesh


def check_sample(arrays: dict, meta: dict, report: ConsistencyReport) -> None:
    import torch

    from hoi_perception.body import BodyParams

    from .engine import body_model

    pose = np.asarray(arrays["body_pose"])
    pose = pose[None] if pose.ndim == 2 else pose  # full-body: one pose; hand clip: one per frame
    n = len(pose)
    params = BodyParams(
        shape=torch.as_tensor(arrays["body_shape"])[None].expand(n, -1),
        pose=torch.as_tensor(pose),
        global_orient=torch.as_tensor(arrays["body_global_orient"])[None].expand(n, -1),
        transl=torch.as_tensor(arrays["body_transl"])[None].expand(n, -1),
    )
    with torch.no_grad():
        bodies = body_model()(params).vertices.double().numpy()
    report.samples += 1
    frames = []
    if meta["kind"] == "fullbody":
        mesh = placed_object_mesh(meta["object_id"], arrays["object_pose"], float(arrays["object_scale"]))
        views = [(arrays["K"][k], arrays["world_to_cam"][k], str(k)) for k in range(len(arrays["K"]))]
        frames.append((bodies[0], mesh, views))
        contact_stored = np.unpackbits(arrays["body_contact_bits"])[: bodies.shape[1]].astype(bool)
        contact = _contacts_trimesh(bodies[0], mesh, CONTACT_THRESHOLD)
    else:
        for t in range(meta["frames"]):
            world_from_cam = np.linalg.inv(arrays["world_to_cam"][t].astype(np.float64))
            mesh = placed_object_mesh(meta["object_id"], world_from_cam @ arrays["cam_from_object"][t].astype(np.float64),
                                      float(arrays["object_scale"]))
            frames.append((bodies[t], mesh, [(arrays["K"][t], arrays["world_to_cam"][t], str(t))]))
        ids = arrays["hand_vertex_ids"]
        contact_stored = arrays["hand_contact"].astype(bool)
        contact = _contacts_trimesh(bodies[0][ids], frames[0][1], HAND_CONTACT_THRESHOLD)
    worst = 0.0
    for body, mesh, views in frames:
        for K, T, key in views:
            depth = decode_png(arrays[f"depth_{key}"]).astype(np.float64) / 1000.0
            instance = decode_png(arrays[f"instance_{key}"])
            vis, hit = _mask_share(body, K, T, depth, instance, (BODY_ID, LEFT_HAND_ID, RIGHT_HAND_ID))
            report.body_visible += vis
            report.body_in_mask += hit
            vis, hit = _mask_share(np.asarray(mesh.vertices), K, T, depth, instance, (OBJECT_ID,))
            report.object_visible += vis
            report.object_in_mask += hit
        worst = max(worst, _penetration(body, mesh))
    report.max_penetration = max(report.max_penetration, worst)
    if worst > PENETRATION_TOLERANCE:
        report.samples_over_tolerance += 1
        report.problems.append(f"{meta['kind']} seed {meta['seed']}: penetration {worst * 100:.1f} cm")
    report.contact_vertices += len(contact)
    report.contact_agree += int(np.count_nonzero(contact == contact_stored))
    report.samples_contact_exact += int(np.array_equal(contact, contact_stored))


def check_dataset(root, limit: int | None = None, progress: bool = False) -> ConsistencyReport:
    from .shards import ShardSet

    data = ShardSet(root)
    n = len(data) if limit is None else min(limit, len(data))
    report = ConsistencyReport()
    it = range(n)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="checking labels", unit="sample")
    for i in it:
        arrays, meta, _ = data.get(i)
        check_sample(arrays, meta, report)
    return report


__all__ = ["ConsistencyReport", "check_dataset", "check_sample"]
