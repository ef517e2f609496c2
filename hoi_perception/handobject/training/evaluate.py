"""Evaluation of clip reconstructions against the engine's ground truth (numbers from hoi_perception.metrics)."""
from __future__ import annotations

import re
import time

import numpy as np

from hoi_perception import metrics as M

from .data import clip_item


def gt_mesh_aligned(arrays: dict, meta: dict, ref: int = 0):
    """The GT object mesh (object library asset, scaled) in the clip's object frame, and the
    object's symmetry rotations expressed in that frame."""
    from hoi_perception.assets import object_library

    asset = object_library().get(meta["object_id"])
    s = float(arrays["object_scale"])
    r0 = arrays["cam_from_object"][ref, :3, :3].astype(np.float64)
    c = arrays["object_voxel_origin"].astype(np.float64) + 32 * float(arrays["object_voxel_pitch"])
    v = (s * asset.vertices.astype(np.float64) - c) @ r0.T
    syms = [r0 @ sr @ r0.T for sr in np.asarray(asset.symmetry_rotations)]
    return v, asset.faces, syms


def object_family(object_id: str) -> str:
    """The shape family of an engine object: procedural ids lose their seed suffix (proc_box_0_6 ->
    proc_box); library objects (YCB) keep their id."""
    return re.sub(r"_\d+_\d+$", "", object_id) if object_id.startswith("proc_") else object_id


def shape_scores(vertices: np.ndarray, faces: np.ndarray, gt_vertices: np.ndarray, gt_faces: np.ndarray,
                 n_samples: int = 10000) -> dict:
    """Chamfer (HOLD, cm^2) and F@5 / F@10 mm of a mesh against the GT mesh after scale+translation
    ICP, without alignment ("_raw"), and F@5 / F@10 after similarity ICP (rotation too, HOLD-like,
    "_sim": how much of the error a rotation explains); 10,000 surface samples each."""
    pred = M.sample_surface(vertices, faces, n_samples, seed=0)
    gt = M.sample_surface(gt_vertices, gt_faces, n_samples, seed=1)
    aligned, _ = M.align_object_icp(pred, gt, mode="scale_translation")
    turned, _ = M.align_object_icp(pred, gt, mode="similarity")
    return {"chamfer_cm2": M.hand_object_chamfer_cm2(aligned, gt),
            "f5": M.fscore(aligned, gt, 0.005), "f10": M.fscore(aligned, gt, 0.010),
            "chamfer_cm2_raw": M.hand_object_chamfer_cm2(pred, gt),
            "f5_raw": M.fscore(pred, gt, 0.005), "f10_raw": M.fscore(pred, gt, 0.010),
            "f5_sim": M.fscore(turned, gt, 0.005), "f10_sim": M.fscore(turned, gt, 0.010)}


def grid_ceiling(arrays: dict, meta: dict, frames, level: float = 0.5) -> dict:
    """The shape scores of the engine's own 64^3 occupancy target through the same surface extraction:
    what a network that predicted its training target exactly would score (the grid's ceiling)."""
    from ..mesh import occupancy_to_mesh

    v, f = occupancy_to_mesh(clip_item(arrays, frames)["occupancy"].astype(np.float32), level=level)
    gv, gf, _ = gt_mesh_aligned(arrays, meta, frames[0])
    return shape_scores(v, f, gv, gf)


def clip_depths(arrays: dict, frames) -> np.ndarray:
    """The engine's rendered depth of the given frames, metres, NaN where nothing was hit."""
    from hoi_perception.synth.engine import decode_png

    d = np.stack([decode_png(arrays[f"depth_{t}"]).astype(np.float32) / 1000.0 for t in frames])
    return np.where(d > 0, d, np.nan)


def evaluate_clip(model, arrays: dict, meta: dict, frames, n_samples: int = 10000, depth_mode: str | None = None) -> dict:
    """Metrics of one clip. With ``depth_mode`` ("shared", "translation" or "rigid") the rendered depth is
    given to the model, as an RGB-D camera would, and the poses are fitted to it by ICP."""
    item = clip_item(arrays, frames)
    t = len(frames)
    images = (item["images"][:t].transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8)
    kmats = arrays["K"][list(frames)].astype(np.float64)
    depths = clip_depths(arrays, frames) if depth_mode else None
    t0 = time.perf_counter()
    # the per-frame translation refinement as the model card sets it (what the live node does)
    clip = model.reconstruct(images, kmats, refine=model.card.get("refine", "silhouette"), depths=depths,
                             depth_mode=depth_mode or "shared")
    dt = time.perf_counter() - t0
    gv, gf, syms = gt_mesh_aligned(arrays, meta, frames[0])
    gt_poses = item["cam_from_aligned"][:t].astype(np.float64)
    rot = [M.symmetric_rotation_error_deg(clip.poses[i, :3, :3], gt_poses[i, :3, :3], syms) for i in range(t)]
    res = {
        **shape_scores(clip.vertices, clip.faces, gv, gf, n_samples),
        "ate_m": M.ate(clip.poses, gt_poses),
        "centre_err_cm": float(100 * np.linalg.norm(clip.poses[:, :3, 3] - gt_poses[:, :3, 3], axis=1).mean()),
        "centre_err_raw_cm": float(100 * np.linalg.norm(clip.poses_raw[:, :3, 3] - gt_poses[:, :3, 3], axis=1).mean()),
        "rot_err_sym_deg": float(np.mean(rot)),
        "iou_amodal": float(np.mean(clip.iou_amodal)),
        "seconds": dt, "frames": t, "object_id": meta["object_id"],
    }
    res.update(M.rpe(clip.poses, gt_poses))
    # the no-motion baseline (every frame at the first frame's true pose): RPE below it = motion tracked
    still = M.rpe(np.repeat(gt_poses[:1], t, axis=0), gt_poses)
    res.update(rpe_still_trans_cm=still["rpe_trans_cm"], rpe_still_rot_deg=still["rpe_rot_deg"])
    # the 2D branch against the engine's masks at the network's 64x64 (channels: amodal object, visible
    # object, hand); a frame where both masks of a channel are empty is left out of that channel's mean
    for c, name in enumerate(("amodal", "visible", "hand")):
        ious = [M.mask_iou(clip.masks[i, c] > 0.5, item["masks"][i, c] > 0.5, empty=np.nan) for i in range(t)]
        res[f"mask_iou_{name}"] = float(np.nanmean(ious)) if not np.all(np.isnan(ious)) else float("nan")
    hj = item["hand_cam"][:t]
    res["hand_mpjpe_mm"] = M.g_mpjpe(clip.hand_joints, hj)  # in the camera frame: placement and articulation
    res["hand_mpjpe_wrist_mm"] = M.mpjpe(clip.hand_joints, hj, root_index=0)  # wrist-aligned: articulation only
    return res
