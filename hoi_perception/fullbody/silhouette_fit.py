"""Test-time fit of the regressed object to the object mask the full-body model was given.

Not in CrossHOI (its output is the network's alone); PHOSA-style. The network sees the masks only
through a 96-px crop, and on objects it has not seen it gets their size wrong most (on held-out
synthetic scenes often 0.6-0.9 of the true size), so the object can sit beside its mask. The fit
moves the object, as one rigid piece, onto the mask: an image-plane shift, a small rotation and a
change of size about its centre. Its depth stays where the network put it next to the body (from
a silhouette, size and depth cannot both be had). The body is not moved: on synthetic scenes
shifting it onto the person mask moved it away from the truth.

Loss (image pixels divided by the mask's size, so it does not depend on resolution): each object
point projected outside the object mask costs its distance to the mask unless the body hides it
there (inside the person mask and behind the body's nearest vertex); each pixel of the object mask
costs its distance to the nearest projected point beyond the points' own spacing (coverage).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree

from hoi_perception.fitting.object_pose import ObjectStart, object_transform
from hoi_perception.fitting.solver import decay_factor, fit
from hoi_perception.fitting.terms import ObjectRotationChange, ObjectSilhouette
from hoi_perception.pipeline.types import InputError
from hoi_perception.raster import pinhole_project

MAX_SIDE = 160         # masks are downscaled to this side for the distance transform
N_POINTS = 400         # object points projected per step
MIN_DEPTH = 1e-3       # m; depths clamped here, so a point that crossed the camera plane still has a gradient
N_PIXELS = 400         # object-mask pixels in the coverage term
N_OCCLUDER = 1600      # body vertices that mark where the body is in front
ROTATION_WEIGHT = 0.5  # keeps the orientation near the network's (per radian squared)
STEPS, LEARNING_RATE = 40, 0.04  # Adam; the rate decays over the second half (step_sizes)


@dataclass
class FitInfo:
    transform: np.ndarray   # (4, 4) similarity applied to the object's camera-frame points
    scale: float            # its size factor
    rotation_deg: float     # its rotation angle
    shift_m: np.ndarray     # (3,) motion of the object's centre
    loss_before: float
    loss_after: float
    ray_scale: float = 1.0  # the spatial prior's growth along the camera's rays (1: none)


def _scaled(mask: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask downscaled to at most MAX_SIDE, intrinsics to match (pixel centres at integers)."""
    h, w = mask.shape
    f = min(1.0, MAX_SIDE / max(h, w))
    if f == 1.0:
        return mask, k
    size = (max(1, round(w * f)), max(1, round(h * f)))
    area = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    m = area >= 0.5
    if not m.any():  # a thin mask: keep every pixel it touches rather than lose it
        m = area > 0
    ks = k.copy()
    ks[0, 0], ks[1, 1] = k[0, 0] * size[0] / w, k[1, 1] * size[1] / h
    ks[0, 2], ks[1, 2] = (k[0, 2] + 0.5) * size[0] / w - 0.5, (k[1, 2] + 0.5) * size[1] / h - 0.5
    return m, ks


class _Target:
    """The loss of a placement of the object's points and its gradient (numpy: 40 Adam steps on
    400 points cost a few milliseconds; with autograd the per-operation overhead cost ~60 ms)."""

    def __init__(self, object_mask: np.ndarray, human_mask: np.ndarray, body: np.ndarray, k: np.ndarray) -> None:
        own, self.k = _scaled(object_mask, k)
        other, _ = _scaled(human_mask, k)
        self.shape = own.shape
        ys, xs = np.nonzero(own)
        if len(xs) == 0:
            raise InputError("the object mask is empty: nothing to fit the object to")
        self.norm = max(float(np.sqrt(len(xs))), 1.0)  # the mask's size in pixels
        # within a pixel of the mask is inside: the mask's own rasterisation is that coarse
        dist = np.maximum(cv2.distanceTransform((~own).astype(np.uint8), cv2.DIST_L2, 3) - 1.0, 0.0)
        self.dist = np.pad(dist / self.norm, ((0, 1), (0, 1)), mode="edge")  # so x0 + 1 always exists
        pick = np.linspace(0, len(xs) - 1, min(N_PIXELS, len(xs))).astype(int)
        self.pixels = np.stack([xs[pick], ys[pick]], 1).astype(np.float64)
        # pixels this close to a projected point count as covered: the points' own spacing, so that
        # a denser packing of points (a smaller object) does not pay
        self.tolerance = 1.5 * max(1.0, float(np.sqrt(len(xs) / N_POINTS)))
        self.front = self._body_depth(body, other)

    def _body_depth(self, body: np.ndarray, person: np.ndarray) -> np.ndarray:
        """Depth of the body's nearest vertex per pixel of the person mask (inf elsewhere)."""
        h, w = self.shape
        ok = body[:, 2] > MIN_DEPTH
        uv = np.round(pinhole_project(body[ok], self.k, MIN_DEPTH)).astype(int)
        z = body[ok, 2]
        inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
        depth = np.full(self.shape, 1e6, np.float32)
        np.minimum.at(depth, (uv[inside, 1], uv[inside, 0]), z[inside].astype(np.float32))
        # a min filter spreads each vertex over the gaps between projected vertices
        depth = cv2.erode(depth, np.ones((5, 5), np.uint8))
        return np.where(person & (depth < 1e5), depth, np.inf)

    def loss(self, p: np.ndarray, grad: bool = False):
        """Mean outside cost of the points + mean coverage cost of the pixels; with `grad`, also
        d loss / d p (N, 3)."""
        h, w = self.shape
        z = np.maximum(p[:, 2], MIN_DEPTH)
        uv = pinhole_project(p, self.k, MIN_DEPTH)
        # bilinear sample of the distance field, the position clamped to the image (border padding)
        uc, vc = np.clip(uv[:, 0], 0, w - 1), np.clip(uv[:, 1], 0, h - 1)
        x0, y0 = np.floor(uc).astype(int), np.floor(vc).astype(int)
        fx, fy = uc - x0, vc - y0
        d00, d01 = self.dist[y0, x0], self.dist[y0, x0 + 1]
        d10, d11 = self.dist[y0 + 1, x0], self.dist[y0 + 1, x0 + 1]
        field = (1 - fy) * ((1 - fx) * d00 + fx * d01) + fy * ((1 - fx) * d10 + fx * d11)
        # beyond the image the cost goes on growing with the distance to its border
        bu = np.maximum(np.maximum(-0.5 - uv[:, 0], uv[:, 0] - (w - 0.5)), 0.0)
        bv = np.maximum(np.maximum(-0.5 - uv[:, 1], uv[:, 1] - (h - 0.5)), 0.0)
        beyond = np.hypot(bu, bv) / self.norm
        ij = np.round(uv).astype(int)
        inside = (ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)
        front = np.full(len(p), np.inf)
        front[inside] = self.front[ij[inside, 1], ij[inside, 0]]
        seen = (front >= p[:, 2]).astype(np.float64)  # 0 where the body is in front of the point
        _, nearest = cKDTree(uv).query(self.pixels)
        gap = self.pixels - uv[nearest]
        reach = np.linalg.norm(gap, axis=1)
        active = reach > self.tolerance
        loss = float((seen * (field + beyond)).mean() + (np.maximum(reach - self.tolerance, 0.0) / self.norm).mean())
        if not grad:
            return loss
        n, m = len(p), len(self.pixels)
        g_uv = np.zeros((n, 2))
        # the field's slope is zero where the position was clamped (as with border padding)
        g_uv[:, 0] = ((1 - fy) * (d01 - d00) + fy * (d11 - d10)) * ((uv[:, 0] > 0) & (uv[:, 0] < w - 1))
        g_uv[:, 1] = ((1 - fx) * (d10 - d00) + fx * (d11 - d01)) * ((uv[:, 1] > 0) & (uv[:, 1] < h - 1))
        far = beyond > 0
        sign = np.stack([np.where(uv[:, 0] < 0, -1.0, 1.0), np.where(uv[:, 1] < 0, -1.0, 1.0)], 1)
        g_uv[far] += np.stack([bu, bv], 1)[far] * sign[far] / (np.hypot(bu, bv)[far, None] * self.norm)
        g_uv *= seen[:, None] / n
        np.add.at(g_uv, nearest[active], -gap[active] / (reach[active, None] * self.norm * m))
        # through the pinhole projection: d(u, v) / d(x, y, z)
        g_p = np.empty((n, 3))
        g_p[:, 0] = g_uv[:, 0] * self.k[0, 0] / z
        g_p[:, 1] = g_uv[:, 1] * self.k[1, 1] / z
        g_p[:, 2] = -(g_uv[:, 0] * self.k[0, 0] * p[:, 0] + g_uv[:, 1] * self.k[1, 1] * p[:, 1]) / z ** 2
        return loss, g_p


def fit_object_to_mask(object_points: np.ndarray, body_vertices: np.ndarray, object_mask: np.ndarray,
                       human_mask: np.ndarray, k: np.ndarray, steps: int = STEPS, lr: float = LEARNING_RATE,
                       fitter=None) -> FitInfo:
    """Camera-frame object surface points (N,3) and body vertices (V,3), boolean masks at the image's
    resolution, 3x3 intrinsics -> the similarity that moves the object onto its mask (FitInfo).
    ``fitter`` (`silhouette_fit_torch.TorchFitter`) runs the steps on a GPU instead of in numpy."""
    k = np.asarray(k, np.float64)
    pick = lambda a, n: np.asarray(a, np.float64)[np.linspace(0, len(a) - 1, min(n, len(a))).astype(int)]  # noqa: E731
    target = _Target(object_mask > 0, human_mask > 0, pick(body_vertices, N_OCCLUDER), k)
    points = pick(object_points, N_POINTS)
    centre = points.mean(0)
    before = target.loss(points)
    if fitter is not None:
        params = fitter.optimise(target, points, centre)
    else:  # the fitting core: this loss is its object-silhouette term
        terms = [ObjectSilhouette(target), ObjectRotationChange(ROTATION_WEIGHT)]
        params = fit(None, None, terms, k, steps=steps, free=("object",), obj=ObjectStart(points), object_lr=lr,
                     decay=True, keep_best=True).object_params[0]
    transform = object_transform(centre, params)[0]  # x -> a (x - c) + c'
    after = target.loss(points @ transform[:3, :3].T + transform[:3, 3])
    new_c = transform[:3, :3] @ centre + transform[:3, 3]
    return FitInfo(transform, float(np.exp(params[5])), float(np.degrees(np.linalg.norm(params[2:5]))), new_c - centre,
                   before, after)


def step_sizes(steps: int, lr: float) -> np.ndarray:
    """Adam's rate per step: ``lr`` for the first half, then a half cosine down to zero. The loss is
    piecewise (nearest pixels, points behind the body) and near its floor Adam's normalised steps stay
    lr-sized, so at a constant rate the last steps wander: a 1 um nudge of the network's object moved
    the fitted one by > 1 mm in 83 of 900 trials on held-out scenes (28 with the decay and the best
    step kept; `bench fullbody`). The rate is 0.04, not 0.03, so that far starts (real images) still
    travel as far as before; a decay from the first step stopped short on them. The fitting core's
    ``decay`` (`fitting.solver.decay_factor`)."""
    return lr * np.array([decay_factor(i, steps) for i in range(steps)])


def fit_object_pose(pose: tuple[float, np.ndarray, np.ndarray], vertices: np.ndarray, faces: np.ndarray,
                    body_vertices: np.ndarray, object_mask: np.ndarray, human_mask: np.ndarray, k: np.ndarray,
                    fitter=None, prior=None, anchor=None) -> tuple[tuple[float, np.ndarray, np.ndarray], FitInfo]:
    """The object's similarity pose (scale, R, t) on its template mesh (vertices, faces) -> the fitted
    pose and FitInfo; 1,000 surface points of the posed template are what is projected. ``prior``
    (`fitting.prior_terms.PriorEvidence`, its keypoints posed by ``pose``; checked by the caller):
    then the object grows or recedes along the camera's rays, which its silhouette cannot see, to
    where the spatial prior and the start's depth agree best (`solve_ray_scale`; FitInfo.ray_scale)."""
    from hoi_perception.geometry import sample_surface

    s, r, t = pose
    points = sample_surface(s * np.asarray(vertices, np.float64) @ r.T + t, faces, 1000, seed=0)
    fit = fit_object_to_mask(points, body_vertices, object_mask, human_mask, k, fitter=fitter)
    a, b = fit.transform[:3, :3], fit.transform[:3, 3]
    s, r, t = s * fit.scale, a / fit.scale @ r, a @ t + b
    if prior is not None or anchor is not None:
        from dataclasses import replace

        from hoi_perception.fitting.prior_terms import contact_candidates, solve_ray_scale

        contact = None
        if prior is not None:
            if prior.contact_weight > 0:
                contact, _ = contact_candidates(prior, body_vertices, points @ a.T + b, object_mask, human_mask, k)
            prior = replace(prior, object_keypoints=prior.object_keypoints @ a.T + b)  # moved as the fit moved the object
        if anchor is not None:
            anchor = replace(anchor, object=anchor.object @ a.T + b)
        fit.ray_scale, _ = solve_ray_scale(prior, contact=contact, anchor=anchor)
        s, t = s * fit.ray_scale, t * fit.ray_scale
    return (s, r, t), fit
