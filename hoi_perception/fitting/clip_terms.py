"""Energy terms over a clip: the batch is the clip's frames in time order (one sample per frame), so a
term can compare frames. Each returns one value per frame (B,), like the per-image terms in
`terms.py`, and the solver sums and reports them the same way.

Speeds and accelerations are in m/s and m/s^2 (through the clip's frame rate), so weights mean the
same at any frame rate or stride.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from hoi_perception.geometry import project_points

from .terms import FitState, Points, Term, geman_mcclure, sample_sdf


def _per_frame(values: torch.Tensor, b: int) -> torch.Tensor:
    """Spread (b - k,) values of frame differences back onto b frames (edges take their neighbour)."""
    if values.shape[0] == b:
        return values
    pad = b - values.shape[0]
    return torch.cat([values[:1].expand(pad // 2), values, values[-1:].expand(pad - pad // 2)])


class Acceleration(Term):
    """Points' accelerations (m/s^2) in units of ``sigma``: squared, or with ``robust`` through the
    Geman-McClure penalty, which prices jitter below ``sigma`` almost quadratically but lets a real
    fast move (a vault's hands, a landing's feet) through at a bounded cost."""

    name = "acceleration"

    def __init__(self, points: Points, fps: float, sigma: float = 10.0, weight: float = 1.0, name: str | None = None,
                 robust: bool = False):
        super().__init__(weight)
        self.points, self.fps, self.sigma, self.robust = points, float(fps), float(sigma), bool(robust)
        self.name = name or self.name

    def __call__(self, state: FitState) -> torch.Tensor:
        p = self.points(state)
        b = p.shape[0]
        if b < 3:
            return p.new_zeros(b)
        sq = (((p[2:] - 2 * p[1:-1] + p[:-2]) * self.fps ** 2) ** 2).sum(-1)
        value = geman_mcclure(sq, self.sigma) if self.robust else sq / self.sigma ** 2
        return _per_frame(value.mean(-1), b)


class SharedShape(Term):
    """One person through the clip: each frame's phenotype near the clip's mean, in units of ``sigma``."""

    name = "shared_shape"

    def __init__(self, sigma: float = 0.02, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.sigma = float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        s = state.params.shape
        return (((s - s.mean(0, keepdim=True)) / self.sigma) ** 2).mean(-1)


class ClipSilhouette(Term):
    """`terms.Silhouette` for every frame at once, on masks kept at a reduced size (``scale`` mask pixels
    per image pixel): body points outside the frame's mask pay their distance to it, and sampled mask
    pixels (inside ``covers`` where given) far from every projected body point pay theirs beyond
    ``tolerance``. Distances are in units of the frame's person height (``heights_px``, image pixels)."""

    name = "silhouette"

    def __init__(self, vertex_index, masks: np.ndarray, scale: float, heights_px, covers: np.ndarray | None = None,
                 weight: float = 1.0, samples: int = 200, tolerance: float = 0.005, seed: int = 0) -> None:
        super().__init__(weight)
        self.index = torch.as_tensor(vertex_index, dtype=torch.long)
        masks = np.asarray(masks, bool)
        b, self.h, self.w = masks.shape
        self.scale = float(scale)
        heights = np.maximum(np.asarray(heights_px, np.float64) * self.scale, 4.0)  # in mask pixels
        fields = np.zeros((b, 1, self.h, self.w), np.float32)
        rng = np.random.default_rng(seed)
        pixels = np.zeros((b, samples, 2), np.float32)
        self.has_pixels = torch.zeros(b, dtype=torch.bool)
        self.has_mask = torch.as_tensor(masks.reshape(b, -1).any(1))
        for t in range(b):
            if not masks[t].any():
                continue
            fields[t, 0] = cv2.distanceTransform((~masks[t]).astype(np.uint8), cv2.DIST_L2, 5) / heights[t]
            cover = masks[t] if covers is None else masks[t] & covers[t]
            ys, xs = np.nonzero(cover)
            if len(xs):
                pick = rng.choice(len(xs), samples, replace=len(xs) < samples)
                pixels[t] = np.stack([xs[pick], ys[pick]], 1)
                self.has_pixels[t] = True
        self.fields = torch.as_tensor(fields)
        self.pixels = torch.as_tensor(pixels)
        self.heights = torch.as_tensor(heights, dtype=torch.float32)
        self.tolerance = float(tolerance)

    def __call__(self, state: FitState) -> torch.Tensor:
        k = state.camera.to(self.fields).clone()
        k[..., :2, :] = k[..., :2, :] * self.scale
        uv = project_points(state.output.vertices[:, self.index], k)
        grid = torch.stack([uv[..., 0] / (self.w - 1) * 2 - 1, uv[..., 1] / (self.h - 1) * 2 - 1], -1)
        out = torch.nn.functional.grid_sample(self.fields, grid[:, None], align_corners=True,
                                              padding_mode="border")[:, 0, 0]
        over = (grid.abs() - 1).clamp(min=0).sum(-1) * max(self.w, self.h) / (2 * self.heights[:, None])
        value = (out + over).mean(-1)
        gap = torch.cdist(self.pixels, uv).min(-1).values / self.heights[:, None]
        value = value + self.has_pixels * (gap - self.tolerance).clamp(min=0).mean(-1)
        return value * self.has_mask


class GroundContact(Term):
    """Feet and the ground plane (``normal`` . x + ``offset`` = 0, camera frame, normal pointing up):
    foot points in ground contact (``contact`` (B, F) in {0, 1}) sit on the plane; any foot point in
    contact (ground or not) does not slide between consecutive contact frames; no foot point goes
    below the plane. In metres squared over ``sigma`` squared."""

    name = "ground"

    def __init__(self, points: Points, normal, offset: float, contact, ground, fps: float, sigma: float = 0.02,
                 weight: float = 1.0) -> None:
        super().__init__(weight)
        self.points = points
        self.normal = torch.as_tensor(np.asarray(normal, np.float64), dtype=torch.float32)
        self.offset = float(offset)
        self.contact = torch.as_tensor(np.asarray(contact, np.float32))
        self.ground = torch.as_tensor(np.asarray(ground, np.float32))
        self.fps, self.sigma = float(fps), float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        p = self.points(state)  # (B, F, 3)
        height = p @ self.normal + self.offset
        value = (self.ground * height ** 2 + (-height).clamp(min=0) ** 2).sum(-1)
        if p.shape[0] > 1:
            both = self.contact[1:] * self.contact[:-1]
            slide = ((p[1:] - p[:-1]) ** 2).sum(-1) * both  # metres per frame: a contact holds still
            value = value + _per_frame(torch.cat([slide.sum(-1), slide.new_zeros(1)]), p.shape[0])
        return value / self.sigma ** 2


class ContactPairs(Term):
    """Annotated 3D pairs: object point ``object_rows`` (rows of the fitted object points) touches body
    point ``body`` (a function of the state giving (B, P, 3)) in the frames where ``active`` (B, P)."""

    name = "contact_pairs"

    def __init__(self, object_rows, body: Points, active, sigma: float = 0.01, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.rows = torch.as_tensor(object_rows, dtype=torch.long)
        self.body = body
        self.active = torch.as_tensor(np.asarray(active, np.float32))
        self.sigma = float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        obj = state.object_points[:, self.rows].float()
        sq = ((obj - self.body(state)) ** 2).sum(-1) / self.sigma ** 2
        return (self.active * sq).sum(-1)


class ImagePairs(Term):
    """Annotated 2D-3D pairs: object point row r is seen at pixel ``uv`` (B, P, 2) where ``active``;
    squared distance over ``scale_px``."""

    name = "image_pairs"

    def __init__(self, object_rows, uv, active, scale_px: float, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.rows = torch.as_tensor(object_rows, dtype=torch.long)
        self.uv = torch.as_tensor(np.asarray(uv, np.float32))
        self.active = torch.as_tensor(np.asarray(active, np.float32))
        self.scale = float(scale_px)

    def __call__(self, state: FitState) -> torch.Tensor:
        uv = project_points(state.object_points[:, self.rows].float(), state.camera.float())
        return (self.active * ((uv - self.uv) ** 2).sum(-1)).sum(-1) / self.scale ** 2


class ObjectStatic(Term):
    """A still object: every frame's object points at their clip mean (metres squared over sigma^2)."""

    name = "object_static"

    def __init__(self, sigma: float = 0.005, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.sigma = float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        p = state.object_points
        return (((p - p.mean(0, keepdim=True)) ** 2).sum(-1).mean(-1) / self.sigma ** 2).float()


class ObjectScale(Term):
    """One object size through the clip: each frame's log size (start size x the fitted factor) at
    ``log_scale`` when the size is fixed, else at the clip's mean."""

    name = "object_scale"

    def __init__(self, start_log_scale, log_scale: float | None = None, sigma: float = 0.02, weight: float = 1.0):
        super().__init__(weight)
        self.start = torch.as_tensor(np.asarray(start_log_scale, np.float64))
        self.target = None if log_scale is None else float(log_scale)
        self.sigma = float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        s = self.start + state.object_params[:, 5]
        ref = s.mean() if self.target is None else self.target
        return (((s - ref) / self.sigma) ** 2).float()


class ObjectPenetration(Term):
    """Body points inside the object pay their depth (m, over ``sigma``, squared): ``sdf`` is the
    template's signed distance grid (`objects.fields.SignedDistanceGrid`); the object's pose per frame
    comes from the fitted points: ``template_to_start`` (B, 4, 4) and the solver's move."""

    name = "object_penetration"

    def __init__(self, vertex_index, sdf, template_to_start, sigma: float = 0.01, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.index = torch.as_tensor(vertex_index, dtype=torch.long)
        self.grid = torch.as_tensor(np.asarray(sdf.sdf), dtype=torch.float32)[None, None]
        self.origin = torch.as_tensor(sdf.origin, dtype=torch.float32)
        self.pitch = float(sdf.pitch)
        self.start = torch.as_tensor(np.asarray(template_to_start, np.float64))
        self.sigma = float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        from .object_pose import similarity

        a, b = similarity(state.object_centre, state.object_params)
        m = a @ self.start[:, :3, :3]
        t = (a @ self.start[:, :3, 3:])[..., 0] + b
        scale = torch.linalg.det(m).abs() ** (1 / 3)
        v = state.output.vertices[:, self.index].double()
        p = ((v - t[:, None]) @ torch.linalg.inv(m).transpose(1, 2)).float()
        d = sample_sdf(self.grid, self.origin, self.pitch, p)
        depth = (-d * scale.float()[:, None]).clamp(min=0)
        return ((depth / self.sigma) ** 2).mean(-1)


class ObjectEvidence(Term):
    """The object near each frame's own estimate ``points`` (B, N, 3) where ``valid``, robustly: one
    frame's wrong estimate cannot drag the clip (Geman-McClure of the mean squared distance)."""

    name = "object_evidence"

    def __init__(self, points, valid, sigma: float = 0.05, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.points = torch.as_tensor(np.asarray(points, np.float64))
        self.valid = torch.as_tensor(np.asarray(valid, np.float64))
        self.sigma = float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        sq = ((state.object_points[:, :self.points.shape[1]] - self.points) ** 2).sum(-1).mean(-1)
        return (self.valid * geman_mcclure(sq, self.sigma)).float()
