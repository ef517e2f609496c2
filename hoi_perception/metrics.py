"""The one evaluation module: every number the project reports is computed here.

Definitions follow the reference evaluation code of the benchmarks (see docs/metrics.md for the
source of each). The geometry they stand on (Procrustes, surface sampling, point-to-mesh
distance) is `hoi_perception.geometry`, shared with inference and training.

Units: inputs are metres (project rule). Each function says which unit it returns; the
conversions are the ones papers use (Chamfer of full-body HOI in cm, MPJPE in mm, RPE in cm).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

# the alignment and distance metrics stand on these; re-exported so a metric is named from one place
from hoi_perception.geometry import (apply_similarity, as_points, closest_point_on_triangles, point_mesh_distance,
                                     sample_surface, similarity_transform)
from hoi_perception.raster import mask_iou

__all__ = [
    "similarity_transform", "apply_similarity", "align_human_object",
    "sample_surface", "chamfer_distance", "hoi_chamfer",
    "closest_point_on_triangles", "point_mesh_distance", "contact_labels", "contact_precision_recall",
    "f1_score", "contact_average_precision", "mask_iou", "auroc",
    "chamfer_squared", "hand_object_chamfer_cm2", "fscore", "fscore_precision_recall", "align_object_icp",
    "rotation_error_deg", "translation_error", "symmetric_rotation_error_deg", "add", "add_s",
    "rpe", "ate",
    "mpjpe", "g_mpjpe", "accel_error", "velocity_error", "foot_skating", "contact_runs", "imitation_success",
    "success_rate",
    "damon_contact_scores", "mesh_edge_graph", "geodesic_fp_error",
]


# ---------------------------------------------------------------------------------------------
# Full-body HOI (BEHAVE / InterCap; CHORE, CONTHO)
# ---------------------------------------------------------------------------------------------

def align_human_object(pred_h, pred_o, gt_h, gt_o):
    """ONE similarity transform estimated on human+object vertices concatenated, applied to both.

    Vertices must correspond (same topology in prediction and ground truth), as in BEHAVE and
    CONTHO. Returns (aligned_pred_h, aligned_pred_o, (s, R, t)).
    """
    ph, po, gh, go = (as_points(a, n) for a, n in ((pred_h, "pred_h"), (pred_o, "pred_o"), (gt_h, "gt_h"), (gt_o, "gt_o")))
    if ph.shape != gh.shape or po.shape != go.shape:
        raise ValueError("predicted and ground-truth meshes must have the same vertex counts")
    tr = similarity_transform(np.concatenate([ph, po]), np.concatenate([gh, go]))
    return apply_similarity(ph, tr), apply_similarity(po, tr), tr


def _nn_dist(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    return cKDTree(dst).query(src, k=1)[0]


def chamfer_distance(a, b) -> float:
    """Mean nearest-neighbour distance a->b plus mean b->a (not squared), in the input unit."""
    pa, pb = as_points(a, "a"), as_points(b, "b")
    if len(pa) == 0 or len(pb) == 0:
        raise ValueError("Chamfer distance needs non-empty point sets")
    return float(_nn_dist(pa, pb).mean() + _nn_dist(pb, pa).mean())


def hoi_chamfer(pred_h, pred_o, gt_h, gt_o, human_faces, object_faces, n_samples: int = 6000,
                seed: int = 0, align: bool = True) -> dict:
    """CD_human and CD_object in cm (inputs in metres), BEHAVE/CONTHO protocol.

    One similarity transform on the concatenated vertices (`align_human_object`), then
    `n_samples` surface points per mesh (prediction and ground truth share the faces), then the
    non-squared Chamfer distance. Returns {"cd_human_cm", "cd_object_cm", "scale"}.
    """
    if align:
        ph, po, tr = align_human_object(pred_h, pred_o, gt_h, gt_o)
        scale = tr[0]
    else:
        ph, po, scale = as_points(pred_h), as_points(pred_o), 1.0
    # Different seeds for pred and gt so the two samplings are independent draws.
    sh_p = sample_surface(ph, human_faces, n_samples, seed)
    sh_g = sample_surface(gt_h, human_faces, n_samples, seed + 1)
    so_p = sample_surface(po, object_faces, n_samples, seed + 2)
    so_g = sample_surface(gt_o, object_faces, n_samples, seed + 3)
    return {
        "cd_human_cm": 100.0 * chamfer_distance(sh_p, sh_g),
        "cd_object_cm": 100.0 * chamfer_distance(so_p, so_g),
        "scale": float(scale),
    }


# ---------------------------------------------------------------------------------------------
# Contact (CONTHO eval_contact_score: 5 cm to the object surface)
# ---------------------------------------------------------------------------------------------

def contact_labels(human_vertices, object_vertices, object_faces, threshold: float = 0.05) -> np.ndarray:
    """Boolean mask: human vertex within `threshold` (5 cm, inclusive) of the object surface,
    measured point-to-triangle (CONTHO's contact definition)."""
    d = point_mesh_distance(human_vertices, object_vertices, object_faces, max_distance=threshold)
    return d <= threshold


def contact_precision_recall(pred_mask, gt_mask) -> tuple[float, float]:
    """Precision and recall of the predicted contact-vertex set against the ground-truth set.

    An empty denominator gives 0 (nothing predicted -> precision 0; no GT contact -> recall 0),
    the epsilon convention of CONTHO's scoring.
    """
    p = np.asarray(pred_mask, dtype=bool).ravel()
    g = np.asarray(gt_mask, dtype=bool).ravel()
    if p.shape != g.shape:
        raise ValueError("masks must have the same length")
    tp = np.count_nonzero(p & g)
    npred, ngt = np.count_nonzero(p), np.count_nonzero(g)
    return (tp / npred if npred else 0.0), (tp / ngt if ngt else 0.0)


def f1_score(precision: float, recall: float) -> float:
    """Harmonic mean of a precision and a recall (0 when both are 0)."""
    return 2.0 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def auroc(scores, good) -> tuple[float, float]:
    """Area under the ROC curve of `scores` for telling `good` items from the others (the chance that
    a good item scores above a bad one, ties half), with its standard error (Hanley & McNeil 1982).
    NaN where either class is empty."""
    x = np.asarray(scores, np.float64)
    g = np.asarray(good, bool)
    n_pos, n_neg = int(g.sum()), int((~g).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan"), float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(x)
    a = float((ranks[g].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)
    return a, float(np.sqrt(max(var, 0.0)))


def contact_average_precision(probs, gt_mask) -> float:
    """Average precision of per-vertex contact probabilities against the ground-truth set: the mean,
    over the true contact vertices, of the precision among the vertices ranked at or above each
    (no interpolation; ties broken by vertex order). Threshold-free, so two models that trade
    precision for recall at 0.5 compare on one figure. NaN where there is no true contact."""
    p = np.asarray(probs, dtype=np.float64).ravel()
    g = np.asarray(gt_mask, dtype=bool).ravel()
    if p.shape != g.shape:
        raise ValueError("probabilities and mask must have the same length")
    if not g.any():
        return float("nan")
    hits = g[np.argsort(-p, kind="stable")]
    tp = np.cumsum(hits)
    return float((tp[hits] / (np.flatnonzero(hits) + 1.0)).mean())


# ---------------------------------------------------------------------------------------------
# Hand-held object (HO3D / HOT3D; HOLD, EasyHOI)
# ---------------------------------------------------------------------------------------------

def chamfer_squared(a, b) -> float:
    """mean_a min_b ||a-b||^2 + mean_b min_a ||a-b||^2 (squared distances, summed directions)."""
    pa, pb = as_points(a, "a"), as_points(b, "b")
    return float((_nn_dist(pa, pb) ** 2).mean() + (_nn_dist(pb, pa) ** 2).mean())


def hand_object_chamfer_cm2(pred_pts, gt_pts) -> float:
    """The project's hand-held-object Chamfer: HOLD's definition.

    Points in metres are converted to cm, then squared nearest-neighbour distances are averaged
    over the points of each set and the two directions are summed; the result is in cm^2
    (papers print it as "cm"). EasyHOI divides a similar figure by 10; we do not.
    """
    return chamfer_squared(100.0 * as_points(pred_pts), 100.0 * as_points(gt_pts))


def fscore_precision_recall(pred_pts, gt_pts, threshold: float) -> tuple[float, float, float]:
    """(F, precision, recall) at `threshold` (same unit as the points; 0.005 / 0.01 m for F@5/F@10).

    precision: share of predicted points within threshold of GT; recall: share of GT points
    within threshold of the prediction; F: their harmonic mean (0 when both are 0)."""
    p, g = as_points(pred_pts, "pred_pts"), as_points(gt_pts, "gt_pts")
    prec = float((_nn_dist(p, g) <= threshold).mean())
    rec = float((_nn_dist(g, p) <= threshold).mean())
    return f1_score(prec, rec), prec, rec


def fscore(pred_pts, gt_pts, threshold: float) -> float:
    """F-score in [0, 1] at `threshold` (see `fscore_precision_recall`)."""
    return fscore_precision_recall(pred_pts, gt_pts, threshold)[0]


def align_object_icp(source, target, mode: str = "scale_translation", max_iter: int = 50,
                     tol: float = 1e-9):
    """Align predicted object samples to GT samples by ICP (EasyHOI-style, default).

    mode: "scale_translation" (EasyHOI: uniform scale + translation, rotation kept),
    "similarity" (rotation + scale + translation) or "rigid". Initialised by matching centroids
    (and RMS radius for the scaled modes); each iteration pairs every source point with its
    nearest target point and solves the transform in closed form. Returns
    (aligned_source, (s, R, t)) with aligned = s * source @ R.T + t.
    HOLD additionally tries RANSAC initialisations over rotations; we do not, so large rotation
    errors are not undone in the default mode (by design: it only removes the scale/depth
    ambiguity of a monocular reconstruction).
    """
    if mode not in ("scale_translation", "similarity", "rigid"):
        raise ValueError(f"unknown mode {mode!r}")
    src, tgt = as_points(source, "source"), as_points(target, "target")
    tree = cKDTree(tgt)
    s, r = 1.0, np.eye(3)
    if mode != "rigid":
        rs = np.sqrt(((src - src.mean(0)) ** 2).sum(1).mean())
        rt = np.sqrt(((tgt - tgt.mean(0)) ** 2).sum(1).mean())
        s = rt / rs if rs > 0 else 1.0
    t = tgt.mean(0) - s * src.mean(0)
    prev = np.inf
    for _ in range(max_iter):
        cur = s * src @ r.T + t
        d, j = tree.query(cur, k=1)
        err = float((d ** 2).mean())
        m = tgt[j]
        if mode == "scale_translation":
            x = src @ r.T
            xc, mc = x - x.mean(0), m - m.mean(0)
            s = float((xc * mc).sum() / max((xc ** 2).sum(), 1e-300))
            t = m.mean(0) - s * x.mean(0)
        else:
            s_new, r, t = similarity_transform(src, m)
            if mode == "rigid":
                # Rigid: same rotation estimate, scale pinned to 1 and translation recomputed.
                s_new = 1.0
                t = m.mean(0) - r @ src.mean(0)
            s = s_new
        if abs(prev - err) <= tol * max(1.0, prev):
            break
        prev = err
    return s * src @ r.T + t, (s, r, t)


# ---------------------------------------------------------------------------------------------
# Object pose and trajectories
# ---------------------------------------------------------------------------------------------

def rotation_error_deg(r_pred, r_gt) -> np.ndarray | float:
    """Geodesic angle between rotations, degrees: arccos((tr(R_pred^T R_gt) - 1) / 2).
    Accepts (3, 3) or (..., 3, 3)."""
    rp, rg = np.asarray(r_pred, dtype=np.float64), np.asarray(r_gt, dtype=np.float64)
    tr = np.einsum("...ij,...ij->...", rp, rg)  # trace(Rp^T Rg)
    ang = np.degrees(np.arccos(np.clip((tr - 1.0) / 2.0, -1.0, 1.0)))
    return float(ang) if np.ndim(ang) == 0 else ang


def translation_error(t_pred, t_gt) -> np.ndarray | float:
    """Euclidean distance between translations (input unit). Accepts (3,) or (..., 3)."""
    e = np.linalg.norm(np.asarray(t_pred, dtype=np.float64) - np.asarray(t_gt, dtype=np.float64), axis=-1)
    return float(e) if np.ndim(e) == 0 else e


def symmetric_rotation_error_deg(r_pred, r_gt, symmetries: Iterable) -> float:
    """min over object symmetries S (rotations in the object frame; identity always included)
    of the geodesic error between R_pred and R_gt S, degrees."""
    best = rotation_error_deg(r_pred, r_gt)
    for sym in symmetries:
        best = min(best, rotation_error_deg(r_pred, np.asarray(r_gt) @ np.asarray(sym)))
    return float(best)


def add(r_pred, t_pred, r_gt, t_gt, model_points) -> float:
    """ADD: mean distance between model points under the predicted and the GT pose (input unit)."""
    x = as_points(model_points, "model_points")
    a = x @ np.asarray(r_pred).T + np.asarray(t_pred)
    b = x @ np.asarray(r_gt).T + np.asarray(t_gt)
    return float(np.linalg.norm(a - b, axis=1).mean())


def add_s(r_pred, t_pred, r_gt, t_gt, model_points) -> float:
    """ADD-S: for each GT-posed model point, distance to the closest predicted-posed point; mean."""
    x = as_points(model_points, "model_points")
    a = x @ np.asarray(r_pred).T + np.asarray(t_pred)
    b = x @ np.asarray(r_gt).T + np.asarray(t_gt)
    return float(_nn_dist(b, a).mean())


def _as_poses(poses) -> np.ndarray:
    p = np.asarray(poses, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (4, 4):
        raise ValueError(f"poses must have shape (T, 4, 4), got {p.shape}")
    return p


def _inv_se3(p: np.ndarray) -> np.ndarray:
    out = np.zeros_like(p)
    rt = np.swapaxes(p[..., :3, :3], -1, -2)
    out[..., :3, :3] = rt
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", rt, p[..., :3, 3])
    out[..., 3, 3] = 1.0
    return out


def rpe(pred_poses, gt_poses, delta: int = 1) -> dict:
    """Relative pose error between frames i and i+delta (TUM RGB-D definition).

    Poses are (T, 4, 4) homogeneous transforms, translations in metres. For each i the error
    is E_i = (G_i^-1 G_{i+d})^-1 (P_i^-1 P_{i+d}); returns the mean of ||trans(E_i)|| in cm and
    the mean of angle(E_i) in degrees: {"rpe_trans_cm", "rpe_rot_deg"}.
    """
    p, g = _as_poses(pred_poses), _as_poses(gt_poses)
    if p.shape != g.shape:
        raise ValueError("pred and gt trajectories must have the same length")
    if len(p) <= delta:
        raise ValueError("trajectory too short for the requested delta")
    rel_p = _inv_se3(p[:-delta]) @ p[delta:]
    rel_g = _inv_se3(g[:-delta]) @ g[delta:]
    e = _inv_se3(rel_g) @ rel_p
    trans = np.linalg.norm(e[:, :3, 3], axis=1)
    rot = rotation_error_deg(e[:, :3, :3], np.broadcast_to(np.eye(3), e[:, :3, :3].shape))
    return {"rpe_trans_cm": float(100.0 * trans.mean()), "rpe_rot_deg": float(np.mean(rot))}


def ate(pred, gt, with_scale: bool = False) -> float:
    """Absolute trajectory error: RMSE of positions after aligning the predicted trajectory to GT.

    `pred`/`gt` are (T, 3) positions or (T, 4, 4) poses (translations used). The alignment is one
    rigid transform (Umeyama; with_scale adds a uniform scale) over the whole trajectory.
    Returns metres (input unit).
    """
    def pos(x):
        a = np.asarray(x, dtype=np.float64)
        return a[:, :3, 3] if a.ndim == 3 else as_points(a)

    p, g = pos(pred), pos(gt)
    if p.shape != g.shape:
        raise ValueError("pred and gt trajectories must have the same length")
    if len(p) < 3:
        # Too few points to fix a rotation: align translation only.
        aligned = p - p.mean(0) + g.mean(0)
    else:
        s, r, t = similarity_transform(p, g)
        if not with_scale:
            s = 1.0
            t = g.mean(0) - r @ p.mean(0)
        aligned = s * p @ r.T + t
    return float(np.sqrt((np.linalg.norm(aligned - g, axis=1) ** 2).mean()))


# ---------------------------------------------------------------------------------------------
# Motion (PHC / ProtoMotions / InterMimic)
# ---------------------------------------------------------------------------------------------

def _joints(x, name):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < 2 or a.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., J, 3), got {a.shape}")
    return a


def mpjpe(pred, gt, root_index: int = 0) -> float:
    """Local MPJPE in mm (inputs in metres): both skeletons translated so their root joint is at
    the origin, then the mean Euclidean joint error over all frames and joints."""
    p, g = _joints(pred, "pred"), _joints(gt, "gt")
    p = p - p[..., root_index:root_index + 1, :]
    g = g - g[..., root_index:root_index + 1, :]
    return float(1000.0 * np.linalg.norm(p - g, axis=-1).mean())


def pa_mpjpe(pred, gt) -> float:
    """Procrustes-aligned MPJPE in mm of one frame (J, 3) in metres: pred moved onto gt by the
    similarity (scale, rotation, translation) that fits it best, then the mean joint error."""
    from hoi_perception.geometry import apply_similarity, similarity_transform

    p, g = _joints(pred, "pred"), _joints(gt, "gt")
    aligned = apply_similarity(p, similarity_transform(p, g))
    return float(1000.0 * np.linalg.norm(aligned - g, axis=-1).mean())


def g_mpjpe(pred, gt) -> float:
    """Global MPJPE in mm (inputs in metres): no alignment at all."""
    p, g = _joints(pred, "pred"), _joints(gt, "gt")
    return float(1000.0 * np.linalg.norm(p - g, axis=-1).mean())


def accel_error(pred, gt) -> float:
    """Acceleration error in mm/frame^2 (inputs (T, J, 3) metres): mean norm of the difference of
    second finite differences x[t+1] - 2x[t] + x[t-1]. Multiply by fps^2 for mm/s^2."""
    p, g = _joints(pred, "pred"), _joints(gt, "gt")
    if p.shape[0] < 3:
        raise ValueError("acceleration needs at least 3 frames")
    ap = p[2:] - 2 * p[1:-1] + p[:-2]
    ag = g[2:] - 2 * g[1:-1] + g[:-2]
    return float(1000.0 * np.linalg.norm(ap - ag, axis=-1).mean())


def velocity_error(pred, gt) -> float:
    """Velocity error in mm/frame (inputs (T, J, 3) metres): first finite differences."""
    p, g = _joints(pred, "pred"), _joints(gt, "gt")
    if p.shape[0] < 2:
        raise ValueError("velocity needs at least 2 frames")
    return float(1000.0 * np.linalg.norm(np.diff(p, axis=0) - np.diff(g, axis=0), axis=-1).mean())


def contact_runs(contact) -> list[tuple[int, int]]:
    """[first, last) runs of True in a (T,) contact flag."""
    c = np.concatenate([[False], np.asarray(contact, bool), [False]])
    edges = np.flatnonzero(np.diff(c.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def foot_skating(feet, contact, up=(0.0, 0.0, 1.0)) -> float:
    """Skating in metres per ground contact: for each run of frames in which a foot point is in
    contact (``contact`` (T, F) from the truth), the path its estimate travels along the ground
    (components across ``up`` removed) over the run; mean over runs (NaN with none). ``feet``
    (T, F, 3) metres, world frame."""
    f = np.asarray(feet, np.float64)
    u = np.asarray(up, np.float64) / np.linalg.norm(up)
    flat = f - (f @ u)[..., None] * u
    paths = []
    for j in range(f.shape[1]):
        for a, b in contact_runs(np.asarray(contact)[:, j]):
            if b - a >= 2:
                paths.append(float(np.linalg.norm(np.diff(flat[a:b, j], axis=0), axis=-1).sum()))
    return float(np.mean(paths)) if paths else float("nan")


def imitation_success(sim_joints, ref_joints, threshold: float = 0.5) -> bool:
    """PHC's success rule for one clip: the mean joint distance (metres) between simulated and
    reference bodies stays <= threshold in every frame. Inputs (T, J, 3)."""
    p, g = _joints(sim_joints, "sim_joints"), _joints(ref_joints, "ref_joints")
    per_frame = np.linalg.norm(p - g, axis=-1).mean(-1)
    return bool((per_frame <= threshold).all())


def success_rate(pairs: Sequence, threshold: float = 0.5) -> float:
    """Share of clips (list of (sim, ref) joint arrays) that succeed."""
    if len(pairs) == 0:
        raise ValueError("no clips")
    return float(np.mean([imitation_success(s, r, threshold) for s, r in pairs]))


# ---------------------------------------------------------------------------------------------
# DAMON per-vertex contact (DECO, InteractVLM)
# ---------------------------------------------------------------------------------------------

def _damon_one(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float, float]:
    npred, ngt = np.count_nonzero(pred), np.count_nonzero(gt)
    if npred == 0:  # DECO: no predicted contact (checked first, also when GT is empty)
        return 1.0, 0.0, 0.0
    if ngt == 0:  # DECO: no ground-truth contact
        return 0.0, 1.0, 0.0
    tp = np.count_nonzero(pred & gt)
    p, r = tp / npred, tp / ngt
    return p, r, f1_score(p, r)


def damon_contact_scores(pred_probs, gt_labels, threshold: float = 0.5, vertices=None, faces=None) -> dict:
    """DAMON/DECO per-vertex contact scores, averaged over images.

    pred_probs: (B, V) probabilities (contact when >= threshold), gt_labels: (B, V) 0/1.
    Per image: precision, recall, F1 with DECO's edge cases (no predicted contact -> P=1, R=0,
    F1=0; else no GT contact -> P=0, R=1, F1=0). With `vertices` (V, 3) and `faces` the
    false-positive geodesic error (`geodesic_fp_error`, in the vertices' unit) is added.
    """
    pr = np.atleast_2d(np.asarray(pred_probs, dtype=np.float64))
    gt = np.atleast_2d(np.asarray(gt_labels)) >= 0.5
    if pr.shape != gt.shape:
        raise ValueError(f"pred {pr.shape} and gt {gt.shape} shapes differ")
    pred = pr >= threshold
    scores = np.array([_damon_one(pred[i], gt[i]) for i in range(len(pr))])
    out = {"precision": float(scores[:, 0].mean()), "recall": float(scores[:, 1].mean()),
           "f1": float(scores[:, 2].mean())}
    if vertices is not None and faces is not None:
        graph = mesh_edge_graph(vertices, faces)
        out["fp_geodesic"] = float(np.mean([geodesic_fp_error(pred[i], gt[i], graph) for i in range(len(pr))]))
    return out


def mesh_edge_graph(vertices, faces):
    """Sparse symmetric (V, V) graph of mesh edges weighted by their Euclidean length."""
    v = as_points(vertices, "vertices")
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    e = np.unique(np.sort(e, axis=1), axis=0)
    w = np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1)
    n = len(v)
    return coo_matrix((np.concatenate([w, w]), (np.concatenate([e[:, 0], e[:, 1]]), np.concatenate([e[:, 1], e[:, 0]]))),
                      shape=(n, n)).tocsr()


def geodesic_fp_error(pred_mask, gt_mask, graph) -> float:
    """Mean graph-geodesic distance (along mesh edges) from each false-positive vertex to the
    nearest GT contact vertex. 0 when there is no false positive; +inf distances (vertex on a
    component without GT contact) are skipped; with no GT contact at all returns 0 (nothing to
    measure against, the F1 already scores that image 0)."""
    p = np.asarray(pred_mask, dtype=bool).ravel()
    g = np.asarray(gt_mask, dtype=bool).ravel()
    fp = p & ~g
    if not fp.any() or not g.any():
        return 0.0
    dist = dijkstra(graph, directed=False, indices=np.flatnonzero(g), min_only=True)
    d = dist[fp]
    d = d[np.isfinite(d)]
    return float(d.mean()) if len(d) else 0.0


def paired_difference(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the per-item differences a - b (items x metrics, same items in both) and its
    standard error (sample std / sqrt(n)): how far two models differ on the same test items,
    with the uncertainty from which items were drawn (not from training seeds)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise ValueError(f"a {a.shape} and b {b.shape} must be the same (items,) or (items, metrics) array")
    if len(a) < 2:
        raise ValueError("a standard error needs at least 2 paired items")
    d = a - b
    return d.mean(axis=0), d.std(axis=0, ddof=1) / np.sqrt(len(d))


def paired_rows_by_name(rows: list[dict], names, first: str = "fit", second: str = "network") -> dict:
    """`paired_difference_by_name` of rows holding f"{first}_{name}" and f"{second}_{name}" per item."""
    a = np.array([[r[f"{first}_{m}"] for m in names] for r in rows])
    b = np.array([[r[f"{second}_{m}"] for m in names] for r in rows])
    return paired_difference_by_name(a, b, names)


def paired_difference_by_name(a, b, names) -> dict:
    """`paired_difference` as {name: {"mean", "sem"}, "n": items} for the columns of a and b (items x names)."""
    mean, sem = paired_difference(a, b)
    out = {k: {"mean": float(m), "sem": float(e)} for k, m, e in zip(names, np.atleast_1d(mean), np.atleast_1d(sem))}
    out["n"] = len(a)
    return out
