"""The fitting core's optimiser: one batched Adam over a body or hand model's parameters and the
object's pose and size.

Rotations change multiplicatively from the start (R = R_start exp(delta)), so a warm start from the
network or the last video frame is the zero point; shape stays in [0, 1] through a sigmoid. The
object (`object_pose.py`) moves about its centre by six parameters from zero. Which parameters move
is chosen per call (``free``), and which pose joints may move by ``joints``. The energy is the
weighted sum of the terms (`terms.py`); the result reports each term's value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from hoi_perception.body.interface import BodyModel, BodyOutput, BodyParams
from hoi_perception.geometry import axis_angle_to_matrix, to_matrix

from .object_pose import N_PARAMS, N_PARAMS_DEPTH, ObjectStart, object_transform
from .terms import FitState, Term

FREE_ALL = ("orient", "pose", "transl", "shape")
FREE_CHOICES = FREE_ALL + ("object",)


@dataclass
class FitResult:
    params: BodyParams | None  # rotations as matrices, float32; None when no body was fitted
    output: BodyOutput | None
    terms: dict[str, list[float]]  # unweighted value per sample, at the end
    energy: list[float]  # weighted total per sample, at the end
    steps: int
    history: list[float] = field(default_factory=list)  # mean energy per step
    object_params: np.ndarray | None = None  # (B, 6|7) float64, `object_pose.py`
    object_transform: np.ndarray | None = None  # (B, 4, 4) similarity applied to the object's start points


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-3, 1 - 1e-3)
    return torch.log(p) - torch.log1p(-p)


def decay_factor(step: int, steps: int) -> float:
    """The rate's factor at ``step`` of ``steps`` with ``decay``: 1 over the first half, then a half
    cosine down to 0. Near a piecewise loss's floor Adam's normalised steps stay rate-sized, so at a
    constant rate the last steps wander."""
    t = step / max(steps - 1, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(max(2.0 * t - 1.0, 0.0), 1.0)))


def _detach_output(out: BodyOutput) -> BodyOutput:
    return BodyOutput(vertices=out.vertices.detach(), joints=out.joints.detach(), faces=out.faces,
                      joint_names=out.joint_names,
                      hand_joints=None if out.hand_joints is None else out.hand_joints.detach(),
                      keypoints=None if out.keypoints is None else out.keypoints.detach(),
                      keypoint_names=out.keypoint_names)


def fit(model: BodyModel | None, start: BodyParams | None, terms: list[Term], camera, steps: int = 60,
        lr: float = 0.03, free=FREE_ALL, joints=None, keypoints: bool = False, transl_lr: float | None = None,
        obj: ObjectStart | None = None, object_lr: float | None = None, decay: bool = False,
        keep_best: bool = False, object_depth: bool = False) -> FitResult:
    """Minimise sum(weight x term) from ``start``; ``joints``: indices into the pose joints that may
    rotate (default all). ``keypoints``: the model also regresses its keypoints (the terms need them).
    ``obj``: the object, which moves where ``free`` names "object" (float64, rate ``object_lr``);
    without a body (``model`` None) only the object moves; ``object_depth``: its depth moves too (seven
    parameters, `object_pose.py`; for 3D evidence such as contact pairs). ``decay``: the rate decays over the second
    half (`decay_factor`). ``keep_best``: each sample ends at the lowest energy it met (the start
    included), not the last step's."""
    unknown = set(free) - set(FREE_CHOICES)
    if unknown:
        raise ValueError(f"unknown free parameters {sorted(unknown)}; choose from {FREE_CHOICES}")
    names = [t.name for t in terms]
    if len(set(names)) != len(names):
        raise ValueError(f"term names must be unique (the result reports each): {names}")
    if model is None and (start is not None or obj is None or set(free) - {"object"}):
        raise ValueError("without a body model only an object can be fitted (free=('object',))")
    dtype = torch.float32
    b = 1 if start is None else start.batch_size
    camera = torch.as_tensor(camera, dtype=dtype)
    groups, body_vars = [], []
    if model is not None:
        r_orient = to_matrix(start.global_orient, "global_orient", 1).to(dtype)
        r_pose = to_matrix(start.pose, "pose", 2).to(dtype)
        shape_logit = _logit(start.shape.to(dtype)).clone().requires_grad_("shape" in free)
        orient = torch.zeros(b, 3, dtype=dtype, requires_grad="orient" in free)
        pose = torch.zeros(b, r_pose.shape[1], 3, dtype=dtype, requires_grad="pose" in free)
        transl = start.transl.to(dtype).clone().requires_grad_("transl" in free)
        body_vars = [shape_logit, orient, pose, transl]
        mask = torch.ones(1, r_pose.shape[1], 1, dtype=dtype)
        if joints is not None:
            mask = torch.zeros_like(mask)
            mask[:, torch.as_tensor(joints, dtype=torch.long)] = 1.0
        groups.append({"params": [t for t in (shape_logit, orient, pose) if t.requires_grad], "lr": lr})
        if transl.requires_grad:
            groups.append({"params": [transl], "lr": transl_lr or lr * 0.1})
    body_moves = any(t.requires_grad for t in body_vars)
    obj_vars = None
    if obj is not None:
        obj_points = torch.as_tensor(np.asarray(obj.points, np.float64))
        obj_centre = torch.as_tensor(obj.centre)
        n_obj = N_PARAMS_DEPTH if object_depth else N_PARAMS
        obj_vars = torch.zeros(b, n_obj, dtype=torch.float64, requires_grad="object" in free)
        if obj_vars.requires_grad:
            groups.append({"params": [obj_vars], "lr": object_lr or lr})
    groups = [g for g in groups if g["params"]]
    for g in groups:
        g["initial_lr"] = g["lr"]
    opt = torch.optim.Adam(groups) if groups else None
    fixed_output = None

    def body() -> tuple[BodyParams | None, BodyOutput | None, torch.Tensor | None]:
        nonlocal fixed_output
        if model is None:
            return None, None, None
        delta = pose * mask
        params = BodyParams(shape=torch.sigmoid(shape_logit), pose=r_pose @ axis_angle_to_matrix(delta),
                            global_orient=r_orient @ axis_angle_to_matrix(orient), transl=transl)
        if not body_moves:  # the body is evidence only: pose it once
            if fixed_output is None:
                with torch.no_grad():
                    fixed_output = model(params, keypoints=keypoints, validate=False)
            return params, fixed_output, delta
        return params, model(params, keypoints=keypoints, validate=False), delta

    def evaluate() -> tuple[torch.Tensor, dict, FitState]:
        params, output, delta = body()
        state = FitState(params, output, camera, delta)
        if obj_vars is not None:
            state.object_params, state.object_centre, state.object_start = obj_vars, obj_centre, obj_points
        values = {t.name: t(state) for t in terms}
        total = sum(t.weight * values[t.name] for t in terms)
        return total, values, state

    variables = [v for v in body_vars + [obj_vars] if v is not None]
    best = [v.detach().clone() for v in variables]
    best_total = torch.full((b,), math.inf, dtype=torch.float64)

    def remember(total: torch.Tensor) -> None:
        better = total.detach().double() < best_total
        best_total[better] = total.detach().double()[better]
        for kept, v in zip(best, variables):
            kept[better] = v.detach()[better]

    history = []
    if steps and opt is not None:
        for i in range(int(steps)):
            if decay:
                for g in opt.param_groups:
                    g["lr"] = g["initial_lr"] * decay_factor(i, int(steps))
            opt.zero_grad(set_to_none=True)
            total, _, _ = evaluate()
            if keep_best:
                remember(total)
            total.sum().backward()
            opt.step()
            history.append(float(total.detach().mean()))
    with torch.no_grad():
        total, values, state = evaluate()
        if keep_best:
            remember(total)
            for kept, v in zip(best, variables):
                v.copy_(kept)
            total, values, state = evaluate()
    result = FitResult(params=None, output=None, terms={k: v.tolist() for k, v in values.items()},
                       energy=total.tolist(), steps=int(steps), history=history)
    if model is not None:
        p = state.params
        result.params = BodyParams(*(t.detach() for t in (p.shape, p.pose, p.global_orient, p.transl)))
        result.output = _detach_output(state.output)
    if obj_vars is not None:
        result.object_params = obj_vars.detach().numpy().copy()
        result.object_transform = object_transform(obj_centre, result.object_params)
    return result
