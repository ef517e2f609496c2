"""The fitting core's optimiser: one batched Adam over a body or hand model's parameters.

Rotations change multiplicatively from the start (R = R_start exp(delta)), so a warm start from the
network or the last video frame is the zero point; shape stays in [0, 1] through a sigmoid. Which
parameters move is chosen per call (``free``), and which pose joints may move by ``joints``. The
energy is the weighted sum of the terms (`terms.py`); the result reports each term's value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from hoi_perception.body.interface import BodyModel, BodyOutput, BodyParams
from hoi_perception.geometry import axis_angle_to_matrix, to_matrix

from .terms import FitState, Term

FREE_ALL = ("orient", "pose", "transl", "shape")


@dataclass
class FitResult:
    params: BodyParams  # rotations as matrices, float32
    output: BodyOutput
    terms: dict[str, list[float]]  # unweighted value per sample, at the end
    energy: list[float]  # weighted total per sample, at the end
    steps: int
    history: list[float] = field(default_factory=list)  # mean energy per step


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-3, 1 - 1e-3)
    return torch.log(p) - torch.log1p(-p)


def fit(model: BodyModel, start: BodyParams, terms: list[Term], camera, steps: int = 60, lr: float = 0.03,
        free=FREE_ALL, joints=None, keypoints: bool = False, transl_lr: float | None = None) -> FitResult:
    """Minimise sum(weight x term) from ``start``; ``joints``: indices into the pose joints that may
    rotate (default all). ``keypoints``: the model also regresses its keypoints (the terms need them)."""
    unknown = set(free) - set(FREE_ALL)
    if unknown:
        raise ValueError(f"unknown free parameters {sorted(unknown)}; choose from {FREE_ALL}")
    names = [t.name for t in terms]
    if len(set(names)) != len(names):
        raise ValueError(f"term names must be unique (the result reports each): {names}")
    dtype = torch.float32
    b = start.batch_size
    r_orient = to_matrix(start.global_orient, "global_orient", 1).to(dtype)
    r_pose = to_matrix(start.pose, "pose", 2).to(dtype)
    shape_logit = _logit(start.shape.to(dtype)).clone().requires_grad_("shape" in free)
    orient = torch.zeros(b, 3, dtype=dtype, requires_grad="orient" in free)
    pose = torch.zeros(b, r_pose.shape[1], 3, dtype=dtype, requires_grad="pose" in free)
    transl = start.transl.to(dtype).clone().requires_grad_("transl" in free)
    mask = torch.ones(1, r_pose.shape[1], 1, dtype=dtype)
    if joints is not None:
        mask = torch.zeros_like(mask)
        mask[:, torch.as_tensor(joints, dtype=torch.long)] = 1.0
    camera = torch.as_tensor(camera, dtype=dtype)
    groups = [{"params": [t for t in (shape_logit, orient, pose) if t.requires_grad], "lr": lr}]
    if transl.requires_grad:
        groups.append({"params": [transl], "lr": transl_lr or lr * 0.1})
    opt = torch.optim.Adam([g for g in groups if g["params"]])

    def evaluate() -> tuple[torch.Tensor, dict, FitState]:
        delta = pose * mask
        params = BodyParams(shape=torch.sigmoid(shape_logit), pose=r_pose @ axis_angle_to_matrix(delta),
                            global_orient=r_orient @ axis_angle_to_matrix(orient), transl=transl)
        state = FitState(params, model(params, keypoints=keypoints, validate=False), camera, delta)
        values = {t.name: t(state) for t in terms}
        total = sum(t.weight * values[t.name] for t in terms)
        return total, values, state

    history = []
    if steps and opt.param_groups:
        for _ in range(int(steps)):
            opt.zero_grad(set_to_none=True)
            total, _, _ = evaluate()
            total.sum().backward()
            opt.step()
            history.append(float(total.detach().mean()))
    with torch.no_grad():
        total, values, state = evaluate()
    params = BodyParams(*(t.detach() for t in (state.params.shape, state.params.pose, state.params.global_orient,
                                               state.params.transl)))
    out = state.output
    out = BodyOutput(vertices=out.vertices.detach(), joints=out.joints.detach(), faces=out.faces,
                     joint_names=out.joint_names,
                     hand_joints=None if out.hand_joints is None else out.hand_joints.detach(),
                     keypoints=None if out.keypoints is None else out.keypoints.detach(),
                     keypoint_names=out.keypoint_names)
    return FitResult(params=params, output=out, terms={k: v.tolist() for k, v in values.items()},
                     energy=total.tolist(), steps=int(steps), history=history)
