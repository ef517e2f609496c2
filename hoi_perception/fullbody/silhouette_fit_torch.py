"""The silhouette fit's Adam steps (`silhouette_fit.py`) in torch, for a GPU.

The same loss, gradient, rates and best-step choice as the fitting core's object stage (`fitting.solver.fit`
with the `ObjectSilhouette` term, as `silhouette_fit.fit_object_to_mask` calls it), written for fixed
shapes: every frame's points, mask pixels and distance / body-depth maps are padded to N_POINTS,
N_PIXELS and (MAX_SIDE + 1)^2, with weights that zero the padding. On a GPU all steps are then
captured once as a CUDA graph and replayed per frame: eager, the 40 steps' ~200 small operations
each would cost more in launches than the numpy steps they replace. The maps and the targets are
built on the host by `silhouette_fit._Target`, as before. Replayed, the fit cost ~20 ms per frame
on an H200 (`bench gpu`, measured before each step also scored its loss for the best step);
``compile`` fuses each step with torch.compile (Triton), which brought a frame to 8.1 ms once, but
is not the default: a second compiled fitter in one process once failed its graph capture (docs/benchmarks.md).
"""
from __future__ import annotations

import logging

import numpy as np
import torch

from hoi_perception.geometry import axis_angle_to_matrix

from .silhouette_fit import (
    LEARNING_RATE,
    MAX_SIDE,
    MIN_DEPTH,
    N_PIXELS,
    N_POINTS,
    ROTATION_WEIGHT,
    STEPS,
    _Target,
    step_sizes,
)

SIDE = MAX_SIDE + 1  # the distance field carries one padding row and column
log = logging.getLogger("hoi_perception.fullbody")
BIG = 1e30


class TorchFitter:
    """`optimise(target, points, centre) -> params (6,)`, as the fitting core computes them on the CPU."""

    def __init__(self, device: str = "cuda", steps: int = STEPS, lr: float = LEARNING_RATE, cuda_graph: bool = True,
                 compile: bool = False):
        """``compile``: fuse each step's ~200 small operations with torch.compile (Triton; compiled
        here, ~10 s). Experimental: see the module's note."""
        self.device, self.steps, self.lr = torch.device(device), int(steps), float(lr)
        self.use_graph = bool(cuda_graph) and self.device.type == "cuda"
        f64 = dict(dtype=torch.float64, device=self.device)
        # Adam's bias corrections and rate per step, as tensors: a compiled step then serves every step
        k = torch.arange(1, self.steps + 1, dtype=torch.float64)
        rates = torch.from_numpy(step_sizes(self.steps, self.lr))
        self.bias = torch.stack([1 - 0.9 ** k, 1 - 0.999 ** k, rates], 1).to(self.device)
        self.step_fn = self._step
        # static inputs, refilled per frame
        self.points = torch.zeros(N_POINTS, 3, **f64)
        self.point_w = torch.zeros(N_POINTS, **f64)   # 1/N for real points, 0 for padding
        self.pixels = torch.zeros(N_PIXELS, 2, **f64)
        self.pixel_w = torch.zeros(N_PIXELS, **f64)   # 1/M for real pixels, 0 for padding
        self.dist = torch.zeros(SIDE * SIDE, **f64)   # distance field / mask size, row-major, SIDE wide
        self.front = torch.zeros(SIDE * SIDE, **f64)  # body depth in front (inf: none)
        self.centre = torch.zeros(3, **f64)
        self.scalars = torch.zeros(8, **f64)          # fx, fy, cx, cy, w, h, norm, tolerance
        self.params = torch.zeros(6, **f64)           # the output
        self.graph = None
        if compile:
            try:  # compiled now, on harmless values, not at the first frame
                self.step_fn = torch.compile(self._step, fullgraph=True, dynamic=False)
                self._load_placeholder()
                self._steps()
            except Exception as exc:  # noqa: BLE001 - no Triton / compiler: the same steps, unfused
                log.warning("silhouette fit: torch.compile failed (%s: %s); running the steps unfused",
                            type(exc).__name__, exc)
                self.step_fn = self._step
        if self.use_graph:
            self._load_placeholder()
            self._capture()

    def optimise(self, target: _Target, points: np.ndarray, centre: np.ndarray) -> np.ndarray:
        self._load(target, points, centre)
        if self.graph is None:
            self.params.copy_(self._steps())
        else:
            self.graph.replay()
        return self.params.cpu().numpy()

    def _load_placeholder(self) -> None:
        """A valid stand-in frame (a blob of points before an empty mask) for compiling and capturing."""
        with torch.no_grad():
            self.points.copy_(torch.linspace(-0.05, 0.05, N_POINTS * 3, dtype=torch.float64).reshape(-1, 3)
                              + torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
            self.point_w.fill_(1.0 / N_POINTS)
            self.pixels.copy_(torch.linspace(0, MAX_SIDE - 1, N_PIXELS * 2, dtype=torch.float64).reshape(-1, 2))
            self.pixel_w.fill_(1.0 / N_PIXELS)
            self.dist.zero_()
            self.front.fill_(float("inf"))
            self.centre.copy_(torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
            self.scalars.copy_(torch.tensor([100.0, 100.0, MAX_SIDE / 2, MAX_SIDE / 2, MAX_SIDE, MAX_SIDE, 20.0, 1.5],
                                            dtype=torch.float64))

    def _load(self, target: _Target, points: np.ndarray, centre: np.ndarray) -> None:
        n, m = len(points), len(target.pixels)
        h, w = target.shape
        if n > N_POINTS or m > N_PIXELS or h > MAX_SIDE or w > MAX_SIDE:
            raise ValueError(f"fit sizes beyond the padded shapes: {n} points, {m} pixels, {h}x{w} mask")
        pts, pw = np.zeros((N_POINTS, 3)), np.zeros(N_POINTS)
        pts[:n], pw[:n] = points, 1.0 / n
        pix, xw = np.zeros((N_PIXELS, 2)), np.zeros(N_PIXELS)
        pix[:m], xw[:m] = target.pixels, 1.0 / m
        dist = np.zeros((SIDE, SIDE))
        dist[:h + 1, :w + 1] = target.dist
        front = np.full((SIDE, SIDE), np.inf)
        front[:h, :w] = target.front
        k = target.k
        scal = [k[0, 0], k[1, 1], k[0, 2], k[1, 2], w, h, target.norm, target.tolerance]
        for dst, src in ((self.points, pts), (self.point_w, pw), (self.pixels, pix), (self.pixel_w, xw),
                         (self.dist, dist.reshape(-1)), (self.front, front.reshape(-1)),
                         (self.centre, np.asarray(centre, np.float64)), (self.scalars, np.asarray(scal, np.float64))):
            dst.copy_(torch.from_numpy(np.ascontiguousarray(src)))

    def _capture(self) -> None:
        side = torch.cuda.Stream()  # warm-up off the default stream, as capture requires
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self._steps()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.params.copy_(self._steps())
        self.graph = graph

    def _steps(self) -> torch.Tensor:
        """The fitting core's object stage: the parameters with the lowest loss met, the start included."""
        params = torch.zeros_like(self.params)
        m1, m2 = torch.zeros_like(params), torch.zeros_like(params)
        best, best_loss = params, torch.full_like(params[0], float("inf"))
        for step in range(self.steps):
            params, m1, m2, best, best_loss = self.step_fn(params, m1, m2, best, best_loss, self.bias[step])
        loss, _ = self._loss_gradient(params, grad=False)  # the last update's result is scored, not moved on from
        return torch.where(loss < best_loss, params, best)

    def _loss_gradient(self, params, grad: bool = True):
        """The fit's loss (with the rotation term) at ``params``; with ``grad``, also the moved points'
        gradient and the points relative to the moved centre."""
        c, cz = self.centre, self.centre[2]
        shift = cz * torch.stack([params[0], params[1], torch.zeros_like(cz)])
        moved = torch.exp(params[5]) * (self.points - c) @ axis_angle_to_matrix(params[2:5]).T + c + shift
        loss, g_p = self._gradient(moved, grad)
        loss = loss + ROTATION_WEIGHT * (params[2:5] * params[2:5]).sum()
        return loss, ((g_p, moved - (c + shift)) if grad else None)

    def _step(self, params, m1, m2, best, best_loss, bias):
        """One Adam step (`bias`: 1 - 0.9^t, 1 - 0.999^t, the step's rate), the best parameters so far
        kept -> params, m1, m2, best, best_loss."""
        cz = self.centre[2]
        loss, (g_p, q) = self._loss_gradient(params)
        better = loss < best_loss
        best, best_loss = torch.where(better, params, best), torch.where(better, loss, best_loss)
        g = torch.cat([cz * g_p[:, :2].sum(0),
                       torch.linalg.cross(q, g_p).sum(0) + 2.0 * ROTATION_WEIGHT * params[2:5],
                       (g_p * q).sum()[None]])
        m1 = 0.9 * m1 + 0.1 * g
        m2 = 0.999 * m2 + 0.001 * g * g
        return params - bias[2] * (m1 / bias[0]) / (torch.sqrt(m2 / bias[1]) + 1e-8), m1, m2, best, best_loss

    def _gradient(self, p: torch.Tensor, grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`silhouette_fit._Target.loss` and, with ``grad``, its gradient d loss / d p (N, 3) (else None),
        padding weighted out."""
        fx, fy, cx, cy, w, h, norm, tol = self.scalars
        z = torch.clamp(p[:, 2], min=MIN_DEPTH)
        u, v = fx * p[:, 0] / z + cx, fy * p[:, 1] / z + cy
        uc, vc = torch.minimum(torch.clamp(u, min=0), w - 1), torch.minimum(torch.clamp(v, min=0), h - 1)
        x0, y0 = torch.floor(uc), torch.floor(vc)
        ax, ay = uc - x0, vc - y0
        i00 = (y0 * SIDE + x0).long()
        d00, d01 = self.dist[i00], self.dist[i00 + 1]
        d10, d11 = self.dist[i00 + SIDE], self.dist[i00 + SIDE + 1]
        bu = torch.clamp(torch.maximum(-0.5 - u, u - (w - 0.5)), min=0)
        bv = torch.clamp(torch.maximum(-0.5 - v, v - (h - 0.5)), min=0)
        ru, rv = torch.round(u), torch.round(v)
        inside = (ru >= 0) & (ru < w) & (rv >= 0) & (rv < h)
        cell = torch.where(inside, rv * SIDE + ru, torch.zeros_like(ru)).long()
        seen = (torch.where(inside, self.front[cell], torch.full_like(u, float("inf"))) >= p[:, 2]).to(p.dtype)
        uv = torch.stack([u, v], 1)
        d2 = ((self.pixels[:, None, :] - uv[None]) ** 2).sum(-1) + (self.point_w == 0).to(p.dtype)[None] * BIG
        nearest = d2.argmin(1)
        gap = self.pixels - uv[nearest]
        reach = torch.linalg.norm(gap, dim=1)
        hyp = torch.sqrt(bu * bu + bv * bv)
        field = (1 - ay) * ((1 - ax) * d00 + ax * d01) + ay * ((1 - ax) * d10 + ax * d11)
        loss = ((seen * (field + hyp / norm)) * self.point_w).sum() \
            + (torch.clamp(reach - tol, min=0) / norm * self.pixel_w).sum()
        if not grad:
            return loss, None
        active = (reach > tol) & (self.pixel_w > 0)
        gu = ((1 - ay) * (d01 - d00) + ay * (d11 - d10)) * ((u > 0) & (u < w - 1)).to(p.dtype)
        gv = ((1 - ax) * (d10 - d00) + ax * (d11 - d01)) * ((v > 0) & (v < h - 1)).to(p.dtype)
        far = hyp > 0
        denom = torch.where(far, hyp * norm, torch.ones_like(hyp))
        gu = gu + torch.where(far, bu * torch.where(u < 0, -1.0, 1.0) / denom, torch.zeros_like(u))
        gv = gv + torch.where(far, bv * torch.where(v < 0, -1.0, 1.0) / denom, torch.zeros_like(v))
        g_uv = torch.stack([gu, gv], 1) * (seen * self.point_w)[:, None]
        pull = torch.where(active[:, None], -gap / (torch.clamp(reach, min=1e-12)[:, None] * norm) * self.pixel_w[:, None],
                           torch.zeros_like(gap))
        g_uv = g_uv.index_add(0, nearest, pull)
        return loss, torch.stack([g_uv[:, 0] * fx / z, g_uv[:, 1] * fy / z,
                                  -(g_uv[:, 0] * fx * p[:, 0] + g_uv[:, 1] * fy * p[:, 1]) / (z * z)], 1)
