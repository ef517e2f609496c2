"""Fitting-core terms from the spatial prior (`hoi_perception.spatialprior`, paper 002): where the
object sits relative to the body, scored from virtual viewports about the body.

The body is evidence here (it does not move). `SpatialPriorTerm` scores the object's keypoints as
the object's parameters move them (`object_pose.py`), for a fit that moves the object by gradient.
`solve_ray_scale` is what the full-body pipeline runs after its silhouette fit: the one motion of
the object that its silhouette cannot see - growing and receding together (x -> f x about the
camera: the same image) - chosen to maximise the prior's score plus a Gaussian on log f about the
start (the network's own depth, as the likelihood), less the paper's contact term (`contact_candidates`).
A 1-D solve on a grid: one batched pass of the flow, a few milliseconds, where gradient steps through
the flow cost ~6 ms each.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoi_perception.spatialprior.layout import ring_viewports
from hoi_perception.spatialprior.prior import SpatialPrior, object_kind

from .object_pose import move_object
from .terms import FitState, Term

VIEWPORTS = 8
DEPTH_SIGMA = 0.1  # the start's depth uncertainty (share of the depth) in `solve_ray_scale`


@dataclass
class PriorEvidence:
    """What the prior term needs for one image: the prior, the body's 22 joints (camera frame), the
    object's 9 template keypoints posed where the fit starts (camera frame), its library id and its
    template's extents (metres)."""

    prior: SpatialPrior
    joints: np.ndarray
    object_keypoints: np.ndarray
    object_id: str
    extents: np.ndarray
    weight: float = 2.0  # per dimension of the flow's log-density (chosen on a tuning set, docs/spatial_prior.md)
    viewports: int = VIEWPORTS
    depth_sigma: float = DEPTH_SIGMA
    contact_weight: float = 5.0  # per metre of the contact candidates' chamfer distance (0: no contact term)

    def unavailable(self) -> str | None:
        """Why the term must stay off for this image (None: it can run)."""
        reason = self.prior.unavailable(self.object_id, self.extents)
        if reason:
            return reason
        for name, a in (("body joints", self.joints), ("object keypoints", self.object_keypoints)):
            if not np.isfinite(np.asarray(a, np.float64)).all():
                return f"the {name} are not finite"
        spread = np.linalg.norm(np.asarray(self.joints) - np.asarray(self.joints).mean(0), axis=1).max()
        if spread < 0.05:
            return "the body's joints collapse to a point (no body frame)"
        near = np.linalg.norm(np.asarray(self.object_keypoints), axis=1).min()
        if near < 0.05:
            return "the object sits at the camera (a degenerate layout)"
        return None


class SpatialPriorTerm(Term):
    """Negative log-density per dimension of the object's layout, averaged over ``viewports`` views."""

    name = "spatial_prior"

    def __init__(self, evidence: PriorEvidence) -> None:
        super().__init__(evidence.weight)
        self.evidence = evidence
        self.joints = torch.as_tensor(np.asarray(evidence.joints, np.float32))
        self.keypoints = torch.as_tensor(np.asarray(evidence.object_keypoints, np.float64))
        self.score = evidence.prior.scorer(self.joints, object_kind(evidence.object_id), evidence.extents,
                                           ring_viewports(evidence.viewports))

    def __call__(self, state: FitState) -> torch.Tensor:
        kp = move_object(self.keypoints, state.object_centre, state.object_params)
        return -self.score(kp).double()


RAY_SCALES = np.exp(np.linspace(-0.35, 0.35, 29))  # the grid of f for `solve_ray_scale` (about 2.5 % apart)


CONTACT_THRESHOLD = 0.1  # c_h * mean map above this makes a body vertex a contact candidate (paper's eta)


@dataclass
class ContactCandidates:
    """Where body and object may touch (paper 002's contact term): body vertices (M, 3) that overlap
    the object mask in this image and often overlap objects of this kind in the engine's views, and
    object points (N, 3) that overlap the person's mask; camera frame."""

    body: np.ndarray
    object: np.ndarray


def contact_candidates(evidence: PriorEvidence, body_vertices: np.ndarray, object_points: np.ndarray,
                       object_mask: np.ndarray, human_mask: np.ndarray, k: np.ndarray,
                       threshold: float = CONTACT_THRESHOLD) -> tuple[ContactCandidates | None, str]:
    """The candidates, or None and why there are none (no map for this kind, no overlap seen)."""
    from hoi_perception.body.vertex_subset import load_subset
    from hoi_perception.raster import pinhole_project

    mean_map = evidence.prior.occlusion.get(object_kind(evidence.object_id) or "")
    if mean_map is None:
        return None, "no mean occlusion map for this kind"
    subset = load_subset("body").indices.numpy()
    body = np.asarray(body_vertices, np.float64)[subset]

    def inside(points, mask):
        uv = np.round(pinhole_project(points, k, 1e-3)).astype(int)
        h, w = mask.shape
        ok = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        hit = np.zeros(len(points), bool)
        hit[ok] = mask[uv[ok, 1], uv[ok, 0]]
        return hit

    body_hit = inside(body, object_mask > 0) & (mean_map > threshold)
    obj_hit = inside(np.asarray(object_points, np.float64), human_mask > 0)
    if not body_hit.any() or not obj_hit.any():
        return None, "body and object do not overlap where contact is usual"
    return ContactCandidates(body[body_hit], np.asarray(object_points, np.float64)[obj_hit]), ""


def _chamfer_per_scale(contact: ContactCandidates, grid: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    body_tree = cKDTree(contact.body)
    out = []
    for f in grid:
        moved = f * contact.object
        out.append(body_tree.query(moved)[0].mean() + cKDTree(moved).query(contact.body)[0].mean())
    return np.array(out)


def solve_ray_scale(evidence: PriorEvidence | None, grid: np.ndarray = RAY_SCALES, centre: float = 1.0,
                    contact: ContactCandidates | None = None, anchor=None,
                    depth_sigma: float = DEPTH_SIGMA) -> tuple[float, dict]:
    """The factor f (object points x -> f x, camera frame) that minimises
    -weight * log p(layout) + 0.5 (log(f / centre) / depth_sigma)^2 [+ contact_weight * chamfer of the
    contact candidates] [+ anchor.weight * the contact model's anchor, `contact_terms.anchor_per_scale`],
    f on ``centre`` * ``grid``; and the energy per grid point. ``centre``: where the likelihood puts f (1:
    the start's depth). Without the prior (``evidence`` None) the anchor and the Gaussian alone decide."""
    grid = float(centre) * np.asarray(grid, np.float64)
    sigma = evidence.depth_sigma if evidence is not None else depth_sigma
    energy = 0.5 * (np.log(grid / centre) / sigma) ** 2
    lp = None
    if evidence is not None:
        score = evidence.prior.scorer(torch.as_tensor(np.asarray(evidence.joints, np.float32)),
                                      object_kind(evidence.object_id), evidence.extents,
                                      ring_viewports(evidence.viewports))
        kp = torch.as_tensor(np.asarray(evidence.object_keypoints, np.float64))
        with torch.no_grad():
            lp = score(torch.as_tensor(grid)[:, None, None] * kp[None]).double().numpy()
        energy = energy - evidence.weight * lp
        if contact is not None and evidence.contact_weight > 0:
            energy = energy + evidence.contact_weight * _chamfer_per_scale(contact, grid)
    if anchor is not None:
        from .contact_terms import anchor_per_scale

        energy = energy + anchor.weight * anchor_per_scale(anchor, grid)
    best = int(np.argmin(energy))
    return float(grid[best]), {"grid": grid.tolist(), "energy": energy.tolist(),
                               "log_prob": None if lp is None else lp.tolist()}
