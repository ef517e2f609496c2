"""Energy terms of the fitting core. A term is a small object with a name and a weight; called on the
current `FitState` it returns one unweighted value per sample (B,). The solver sums weight x value
and reports each term's value, so a term can be tested and tuned on its own.

Image terms work in pixels through the camera matrix and are normalised by a length in pixels (the
person's height, a hand's size), so their values mean the same at any resolution.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from hoi_perception.body.interface import BodyOutput, BodyParams
from hoi_perception.geometry import project_points

from .object_pose import N_PARAMS, move_object, move_object_np, moved_centre_np


@dataclass
class FitState:
    """What the terms see at one step: parameters, the posed model in the camera frame, the camera."""

    params: BodyParams | None  # rotations as matrices; None when only the object is fitted
    output: BodyOutput | None
    camera: torch.Tensor  # (3, 3) or (B, 3, 3)
    pose_delta: torch.Tensor | None  # (B, P, 3) axis-angle change from the start, per pose joint
    # the object, where one is fitted (`object_pose.py`): its parameters, start centre and points
    object_params: torch.Tensor | None = None  # (B, 6|7) float64
    object_centre: torch.Tensor | None = None  # (3,) or (B, 3) float64
    object_start: torch.Tensor | None = None  # (N, 3) or (B, N, 3) float64

    @functools.cached_property
    def object_points(self) -> torch.Tensor:
        """(B, N, 3) the object's moved points, made when a term asks for them."""
        return move_object(self.object_start, self.object_centre, self.object_params)


Points = Callable[[FitState], torch.Tensor]  # FitState -> (B, K, 3) camera-frame points


class Term:
    name = "term"

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = float(weight)

    def __call__(self, state: FitState) -> torch.Tensor:
        raise NotImplementedError


def geman_mcclure(sq: torch.Tensor, sigma: float) -> torch.Tensor:
    """Robust penalty of squared residuals in [0, 1): ~sq / sigma^2 for small ones, saturating for
    outliers (a wrong detection cannot drag the fit far)."""
    s2 = sigma * sigma
    return sq / (sq + s2)


class KeypointReprojection(Term):
    """Robust, confidence-weighted 2D distance between projected model points and detected keypoints,
    in units of ``scale_px`` (the person's height or the hand's size)."""

    name = "keypoints_2d"

    def __init__(self, points: Points, target_px, confidence, scale_px, weight: float = 1.0, sigma: float = 0.1,
                 name: str | None = None) -> None:
        super().__init__(weight)
        self.points = points
        self.target = torch.as_tensor(target_px, dtype=torch.float32)
        self.conf = torch.as_tensor(confidence, dtype=torch.float32)
        self.scale = torch.as_tensor(scale_px, dtype=torch.float32).reshape(-1, 1)
        self.sigma = float(sigma)
        self.name = name or self.name

    def __call__(self, state: FitState) -> torch.Tensor:
        uv = project_points(self.points(state), state.camera.to(self.target))
        sq = ((uv - self.target) ** 2).sum(-1) / self.scale ** 2
        return (self.conf * geman_mcclure(sq, self.sigma)).sum(-1) / self.conf.sum(-1).clamp(min=1e-6)


class WorldLandmarks(Term):
    """3D agreement with the detector's world landmarks (metres, camera axes), both centred on the
    mean of ``centre`` points: what the 2D keypoints cannot say about depth order comes from here."""

    name = "world_landmarks"

    def __init__(self, points: Points, target_m, confidence, centre: list[int], weight: float = 1.0,
                 sigma: float = 0.1, name: str | None = None) -> None:
        super().__init__(weight)
        self.points = points
        self.target = torch.as_tensor(target_m, dtype=torch.float32)
        self.conf = torch.as_tensor(confidence, dtype=torch.float32)
        self.centre = list(centre)
        self.sigma = float(sigma)
        self.target = self.target - self.target[:, self.centre].mean(1, keepdim=True)
        self.name = name or self.name

    def __call__(self, state: FitState) -> torch.Tensor:
        p = self.points(state)
        p = p - p[:, self.centre].mean(1, keepdim=True)
        sq = ((p - self.target) ** 2).sum(-1)
        return (self.conf * geman_mcclure(sq, self.sigma)).sum(-1) / self.conf.sum(-1).clamp(min=1e-6)


class Silhouette(Term):
    """The person's mask and the projected body agree: body points that land outside the mask (or
    outside what may hide the person, e.g. the object) pay their distance to it, and mask pixels far
    from every projected body point pay their distance beyond ``tolerance`` of the scale (only those
    inside ``cover`` where it is given)."""

    name = "silhouette"

    def __init__(self, vertex_index, mask: np.ndarray, scale_px: float, allowed: np.ndarray | None = None,
                 weight: float = 1.0, samples: int = 400, tolerance: float = 0.005, seed: int = 0,
                 cover: np.ndarray | None = None) -> None:
        super().__init__(weight)
        self.index = torch.as_tensor(vertex_index, dtype=torch.long)
        mask = np.asarray(mask, bool)
        allowed = mask if allowed is None else (np.asarray(allowed, bool) | mask)
        self.h, self.w = mask.shape
        outside = cv2.distanceTransform((~allowed).astype(np.uint8), cv2.DIST_L2, 5)
        self.field = torch.as_tensor(outside / float(scale_px), dtype=torch.float32)[None, None]
        # only mask pixels where the body can be (``cover``, e.g. near the person's skeleton) pull it
        ys, xs = np.nonzero(mask if cover is None else mask & np.asarray(cover, bool))
        pick = np.random.default_rng(seed).choice(len(xs), min(samples, len(xs)), replace=False) if len(xs) else []
        self.pixels = torch.as_tensor(np.stack([xs[pick], ys[pick]], 1), dtype=torch.float32)
        self.scale, self.tolerance = float(scale_px), float(tolerance)

    def __call__(self, state: FitState) -> torch.Tensor:
        uv = project_points(state.output.vertices[:, self.index], state.camera.to(self.field))
        grid = torch.stack([uv[..., 0] / (self.w - 1) * 2 - 1, uv[..., 1] / (self.h - 1) * 2 - 1], -1)
        b = uv.shape[0]
        # points off the image read the border's distance (padding "border") and also pay their overshoot
        out = torch.nn.functional.grid_sample(self.field.expand(b, -1, -1, -1), grid[:, None], align_corners=True,
                                              padding_mode="border")[:, 0, 0]
        over = (grid.abs() - 1).clamp(min=0).sum(-1) * max(self.w, self.h) / (2 * self.scale)
        outside = (out + over).mean(-1)
        if len(self.pixels) == 0:
            return outside
        gap = torch.cdist(self.pixels[None].expand(b, -1, -1), uv).min(-1).values / self.scale
        return outside + (gap - self.tolerance).clamp(min=0).mean(-1)


class PosePriorTerm(Term):
    """Negative log-likelihood of the body's limb directions under the mocap-learned mixture."""

    name = "pose_prior"

    def __init__(self, prior, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.prior = prior

    def __call__(self, state: FitState) -> torch.Tensor:
        return self.prior(state.output.joints.float())


class ShapePrior(Term):
    """Phenotype near a reference (the network's estimate, or the mid shape), in units of ``sigma``."""

    name = "shape_prior"

    def __init__(self, reference, sigma: float = 0.2, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.reference = torch.as_tensor(reference, dtype=torch.float32)
        self.sigma = float(sigma)

    def __call__(self, state: FitState) -> torch.Tensor:
        return (((state.params.shape - self.reference) / self.sigma) ** 2).mean(-1)


class PoseChange(Term):
    """Small rotation changes from the start pose (squared angle, radians) on the joints given: keeps
    what the evidence does not see (twist, hidden limbs, fingers) where the start put it."""

    name = "pose_change"

    def __init__(self, joints=None, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.joints = None if joints is None else torch.as_tensor(joints, dtype=torch.long)

    def __call__(self, state: FitState) -> torch.Tensor:
        d = state.pose_delta if self.joints is None else state.pose_delta[:, self.joints]
        return (d * d).sum(-1).mean(-1)


class TemporalSmoothness(Term):
    """Video: the batch is a clip in time order; joints' accelerations (m per frame^2) are penalised."""

    name = "smoothness"

    def __call__(self, state: FitState) -> torch.Tensor:
        j = state.output.joints
        if j.shape[0] < 3:
            return j.new_zeros(j.shape[0])
        acc = ((j[2:] - 2 * j[1:-1] + j[:-2]) ** 2).sum(-1).mean(-1)
        return torch.cat([acc[:1], acc, acc[-1:]])


class Interpenetration(Term):
    """Body points inside the object pay their depth: ``sdf`` is the object's signed distance grid
    (negative inside; `objects.fields.SignedDistanceGrid`) in its own frame, posed by ``object_pose``
    (4x4, object to camera, scale included) or a callable giving it per state."""

    name = "interpenetration"

    def __init__(self, vertex_index, sdf, object_pose, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.index = torch.as_tensor(vertex_index, dtype=torch.long)
        self.grid = torch.as_tensor(np.asarray(sdf.sdf), dtype=torch.float32)[None, None]  # (1,1,R,R,R) [i,j,k]
        self.origin = torch.as_tensor(sdf.origin, dtype=torch.float32)
        self.pitch = float(sdf.pitch)
        self.pose = object_pose

    def __call__(self, state: FitState) -> torch.Tensor:
        pose = self.pose(state) if callable(self.pose) else torch.as_tensor(self.pose, dtype=torch.float32)
        m = pose[:3, :3]
        scale = torch.linalg.det(m).abs() ** (1 / 3)
        p = (state.output.vertices[:, self.index] - pose[:3, 3]) @ torch.linalg.inv(m).T
        return (-sample_sdf(self.grid, self.origin, self.pitch, p) * scale).clamp(min=0).mean(-1)


def sample_sdf(grid: torch.Tensor, origin: torch.Tensor, pitch: float, points: torch.Tensor) -> torch.Tensor:
    """Trilinear signed distances of (B, N, 3) object-frame points in a (1, 1, R, R, R) grid [i, j, k]
    sampled at voxel centres (`objects.fields.SignedDistanceGrid`); outside it, the border's value."""
    r = grid.shape[-1]
    g = ((points - origin) / pitch - 0.5) / (r - 1) * 2 - 1  # voxel-centre coordinates in [-1, 1]
    # grid_sample reads (x, y, z) as (k, j, i) of the volume
    return torch.nn.functional.grid_sample(grid.expand(points.shape[0], -1, -1, -1, -1), g.flip(-1)[:, None, None],
                                           align_corners=True, padding_mode="border")[:, 0, 0, 0]


class _MaskLoss(torch.autograd.Function):
    """A mask target's loss of the moved object points, per sample, and its gradient with respect to
    the object's six (or seven) parameters: the target gives d loss / d point; a turn is taken about the moved
    centre (d x q: exact at w = 0, close for the few degrees these fits turn). Moved in numpy: the
    fit takes ~40 steps per frame, and torch's per-operation cost would be most of them."""

    @staticmethod
    def forward(ctx, params, start, centre, target):
        grad = ctx.needs_input_grad[0]
        losses, grads = [], []
        c, x0 = centre.numpy(), start.numpy()
        for p in params.detach().numpy():
            x = move_object_np(x0, c, p)
            if not grad:
                losses.append(target.loss(x))
                continue
            loss, g_p = target.loss(x, grad=True)
            moved = moved_centre_np(c, p)
            q = x - moved
            g = [moved[2] * g_p[:, :2].sum(0), np.cross(q, g_p).sum(0), [(g_p * q).sum()]]
            if len(p) > N_PARAMS:  # the depth factor slides every point along with the centre
                g.append([float(g_p.sum(0) @ moved)])
            losses.append(loss)
            grads.append(np.concatenate(g))
        ctx.grads = torch.as_tensor(np.array(grads)) if grads else None
        return torch.as_tensor(losses, dtype=torch.float64)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out[:, None] * ctx.grads, None, None, None


class ObjectSilhouette(Term):
    """The object's mask and its projected points agree (the object silhouette fit of the full-body
    pipeline, `fullbody/silhouette_fit.py`): ``target.loss(points, grad)`` prices points outside the
    mask unless the body hides them, and mask pixels no point covers; see that module."""

    name = "object_silhouette"

    def __init__(self, target, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.target = target

    def __call__(self, state: FitState) -> torch.Tensor:
        return _MaskLoss.apply(state.object_params, state.object_start, state.object_centre, self.target)


class ObjectRotationChange(Term):
    """Keeps the object's orientation near its start (squared turn, radians)."""

    name = "object_rotation_change"

    def __call__(self, state: FitState) -> torch.Tensor:
        w = state.object_params[:, 2:5]
        return (w * w).sum(-1)
