"""The contact anchor (paper 003, eq. 9): predicted contacts hold the object to the body.

E_C = sum_i sum_j c_i^H c_j^O |V_i^H - V_j^O| / (sum_i c_i^H sum_j c_j^O): the mean distance between the
body's contact vertices and the object's contact points, each weighted by its contact probability. The
body is evidence here (fitted before, it does not move); the object's points move with its parameters.

`ContactAnchor` is the term for gradient fits. `anchor_per_scale` gives E_C for a grid of factors f
(object points x -> f x about the camera centre): the one motion the object's silhouette cannot see,
which the full-body pipeline solves on a grid after its mask fit (`prior_terms.solve_ray_scale`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .object_pose import move_object
from .terms import FitState, Term

ANCHOR_WEIGHT = 5.0  # per metre of E_C in the ray-scale solve (the spatial prior's contact term's scale)
MIN_CONTACT_VERTICES = 3


@dataclass
class ContactEvidence:
    """Where body and object touch, as the contact model predicts: camera-frame points and weights."""

    body: np.ndarray           # (M, 3) the fitted body's vertices predicted in contact
    body_weight: np.ndarray    # (M,) their contact probabilities
    object: np.ndarray         # (N, 3) the object's template subset vertices predicted in contact, posed
    object_weight: np.ndarray  # (N,)
    weight: float = ANCHOR_WEIGHT


def contact_evidence(body_vertices: np.ndarray, body_prob: np.ndarray, object_points: np.ndarray,
                     object_prob: np.ndarray, threshold: float,
                     weight: float = ANCHOR_WEIGHT) -> tuple[ContactEvidence | None, str]:
    """The evidence from per-vertex probabilities (those at or above `threshold`), or None and why: too few
    contacts on either side (nothing to anchor: never an anchor invented on an absent contact)."""
    b, o = np.asarray(body_prob) >= threshold, np.asarray(object_prob) >= threshold
    if b.sum() < MIN_CONTACT_VERTICES:
        return None, f"{int(b.sum())} body vertices predicted in contact"
    if o.sum() < 1:
        return None, "no object point predicted in contact"
    pts = [np.asarray(x, np.float64) for x in (body_vertices, object_points)]
    if not all(np.isfinite(p).all() for p in pts):
        return None, "the body or the object is not finite"
    return ContactEvidence(pts[0][b], np.asarray(body_prob, np.float64)[b], pts[1][o], np.asarray(object_prob, np.float64)[o],
                           weight), ""


def anchor_energy(body: torch.Tensor, body_weight: torch.Tensor, obj: torch.Tensor, object_weight: torch.Tensor) -> torch.Tensor:
    """E_C for (M, 3) body points and (B, N, 3) object points -> (B,), metres."""
    d = torch.cdist(obj, body[None].expand(obj.shape[0], -1, -1))  # (B, N, M)
    w = object_weight[:, None] * body_weight[None, :]
    return (d * w).sum((-1, -2)) / w.sum()


class ContactAnchor(Term):
    """E_C with the object's contact points moved by the fit's object parameters."""

    name = "contact_anchor"

    def __init__(self, evidence: ContactEvidence) -> None:
        super().__init__(evidence.weight)
        self.body = torch.as_tensor(evidence.body, dtype=torch.float64)
        self.body_weight = torch.as_tensor(evidence.body_weight, dtype=torch.float64)
        self.object = torch.as_tensor(evidence.object, dtype=torch.float64)
        self.object_weight = torch.as_tensor(evidence.object_weight, dtype=torch.float64)

    def __call__(self, state: FitState) -> torch.Tensor:
        moved = move_object(self.object, state.object_centre, state.object_params)
        return anchor_energy(self.body, self.body_weight, moved, self.object_weight)


def anchor_per_scale(evidence: ContactEvidence, grid: np.ndarray) -> np.ndarray:
    """E_C (metres) with the object's contact points scaled by each factor of `grid` about the camera centre."""
    f = torch.as_tensor(np.asarray(grid, np.float64))[:, None, None]
    with torch.no_grad():
        e = anchor_energy(torch.as_tensor(evidence.body), torch.as_tensor(evidence.body_weight),
                          f * torch.as_tensor(evidence.object)[None], torch.as_tensor(evidence.object_weight))
    return e.numpy()
