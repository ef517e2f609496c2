"""The one body/hand-model interface: parameters in, posed mesh and canonical joints out.

Conventions (every backend follows them; see docs/body_model.md):

* Units are metres. The **body frame** follows REP 103: x forward (the way the face and the
  palm-down hand point), y left, z up. At the rest pose with ``global_orient`` = identity and
  ``transl`` = 0 the root joint (pelvis for a body, wrist for a hand) is at the origin and a
  body stands upright (A-pose) facing +x; its feet are near z = -0.8 m for mid phenotypes.
* ``global_orient`` rotates the whole model about its root joint; ``transl`` is then the
  root joint's position. Placing a model in a world or camera frame F is therefore either
  ``global_orient = R_F_body``, ``transl = t_F_body``, or applying a 4x4 transform to the
  output afterwards (:func:`transform_output`). Camera optical frames (z forward, x right,
  y down) relate to a REP 103 frame by :data:`OPTICAL_FROM_REP103`.
* Rotations are *local* SMPL-style rotations: joint j's rotation R_j is expressed in axes
  aligned with the body frame at rest (not in a bone's own axes), and the global rotation of
  joint j is G_j = G_parent(j) R_j with G_root = global_orient. Identity everywhere is the
  rest pose. A rotation can be given as an axis-angle vector (..., 3), the 6D
  representation of Zhou et al. (..., 6) = the first two *columns* of the matrix
  concatenated [R[:, 0], R[:, 1]], or a matrix (..., 3, 3).
* Shape is the model's phenotype vector in [0, 1] (anny: gender, age, muscle, weight,
  height, proportions; 0.5 is the mid value).
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Literal, Sequence

import torch

from hoi_perception.geometry import matrix_to_axis_angle, matrix_to_rot6d, to_matrix

Kind = Literal["body", "hand_left", "hand_right"]
KINDS: tuple[str, ...] = ("body", "hand_left", "hand_right")

# Rotation from a REP 103 frame (x forward, y left, z up) to a camera optical frame
# (z forward, x right, y down): p_optical = OPTICAL_FROM_REP103 @ p_rep103.
OPTICAL_FROM_REP103 = torch.tensor(
    [[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]], dtype=torch.float64
)


# --- parameters and outputs -------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BodyParams:
    """Network parameterisation of a body or a hand (batch B).

    shape: (B, S) phenotype values in [0, 1], S = len(model.shape_labels).
    pose: (B, P, 3|6) or (B, P, 3, 3) local rotations of ``model.pose_joint_names``
        (body: 21 body joints + 15 left-hand + 15 right-hand finger joints = 51;
        hand: 15 finger joints).
    global_orient: (B, 3|6) or (B, 3, 3) orientation of the root joint in the target frame.
    transl: (B, 3) position of the root joint in the target frame (metres).
    """

    shape: torch.Tensor
    pose: torch.Tensor
    global_orient: torch.Tensor
    transl: torch.Tensor

    @property
    def batch_size(self) -> int:
        return int(self.shape.shape[0])

    def to(self, device=None, dtype=None) -> "BodyParams":
        return BodyParams(*(t.to(device=device, dtype=dtype) for t in dataclasses.astuple(self)))

    def flatten(self, rotation: Literal["axis_angle", "6d"] = "6d") -> torch.Tensor:
        """One (B, D) vector per sample: [shape, global_orient, transl, pose] in that order."""
        conv = _rot_converter(rotation)
        b = self.batch_size
        return torch.cat(
            [
                self.shape,
                conv(to_matrix(self.global_orient, batch_dims=1)).reshape(b, -1),
                self.transl,
                conv(to_matrix(self.pose, batch_dims=2)).reshape(b, -1),
            ],
            dim=1,
        )

    @staticmethod
    def unflatten(
        vector: torch.Tensor, num_shape: int, num_pose: int, rotation: Literal["axis_angle", "6d"] = "6d"
    ) -> "BodyParams":
        """Inverse of :meth:`flatten` (rotations stay in the given representation)."""
        r = 6 if rotation == "6d" else 3
        expected = num_shape + r + 3 + num_pose * r
        if vector.ndim != 2 or vector.shape[1] != expected:
            raise ValueError(f"expected a (B, {expected}) vector, got {tuple(vector.shape)}")
        s, g, t = num_shape, num_shape + r, num_shape + r + 3
        return BodyParams(
            shape=vector[:, :s],
            global_orient=vector[:, s:g],
            transl=vector[:, g:t],
            pose=vector[:, t:].reshape(vector.shape[0], num_pose, r),
        )


def _rot_converter(rotation: str):
    if rotation == "6d":
        return matrix_to_rot6d
    if rotation == "axis_angle":
        return matrix_to_axis_angle
    raise ValueError(f"rotation must be 'axis_angle' or '6d', got {rotation!r}")


@dataclasses.dataclass(frozen=True)
class BodyOutput:
    """Posed model in the frame of ``global_orient``/``transl`` (metres).

    vertices: (B, V, 3). faces: (F, 3) int64 triangle indices into the vertices.
    joints: (B, J, 3) on ``joint_names`` (BODY_JOINTS for a body, HAND_JOINTS for a hand).
    hand_joints: body only, (B, 2, 21, 3) left then right hand on HAND_JOINTS.
    keypoints: (B, K, 3) on ``keypoint_names`` when requested (COCO-17 + 6 foot points for a body).
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    faces: torch.Tensor
    joint_names: tuple[str, ...]
    hand_joints: torch.Tensor | None = None
    keypoints: torch.Tensor | None = None
    keypoint_names: tuple[str, ...] = ()


def transform_output(out: BodyOutput, transform: torch.Tensor) -> BodyOutput:
    """Apply a rigid 4x4 transform (4, 4) or (B, 4, 4), e.g. T_camera_body, to every point."""
    if transform.shape[-2:] != (4, 4):
        raise ValueError(f"transform must be (4, 4) or (B, 4, 4), got {tuple(transform.shape)}")
    t = transform.to(out.vertices)
    rot, trans = t[..., :3, :3], t[..., :3, 3]
    if t.ndim == 2:
        rot, trans = rot[None], trans[None]

    def apply(p: torch.Tensor | None) -> torch.Tensor | None:
        if p is None:
            return None
        flat = p.reshape(p.shape[0], -1, 3)
        return (flat @ rot.transpose(-1, -2) + trans[:, None]).reshape(p.shape)

    return dataclasses.replace(
        out,
        vertices=apply(out.vertices),
        joints=apply(out.joints),
        hand_joints=apply(out.hand_joints),
        keypoints=apply(out.keypoints),
    )


class BodyModel(torch.nn.Module, abc.ABC):
    """A differentiable body or hand model. Subclasses set the attributes below.

    kind: "body", "hand_left" or "hand_right".
    shape_labels: names of the shape values (the S columns of ``BodyParams.shape``).
    pose_joint_names: joints whose local rotations ``BodyParams.pose`` holds, in order.
    joint_names / joint_parents: the canonical joint list of ``BodyOutput.joints``.
    """

    kind: str
    shape_labels: tuple[str, ...]
    pose_joint_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    joint_parents: tuple[int, ...]
    shape_range: tuple[float, float] | None = (0.0, 1.0)  # None: unbounded (e.g. SMPL betas)

    @property
    @abc.abstractmethod
    def faces(self) -> torch.Tensor:
        """(F, 3) int64 triangles."""

    @property
    @abc.abstractmethod
    def num_vertices(self) -> int: ...

    @abc.abstractmethod
    def forward(self, params: BodyParams, keypoints: bool = False, validate: bool = True) -> BodyOutput:
        """Posed vertices and joints; differentiable with respect to every tensor in params.

        keypoints: also regress the model's keypoints (COCO-17 + feet for an anny body).
        validate: run :meth:`check_params` first (one host sync for the NaN check).
        """

    @property
    def num_pose_joints(self) -> int:
        return len(self.pose_joint_names)

    # Every backend registers `_C`, its floating-point frame-change matrix, as a buffer: it is the
    # reference for device and dtype (other buffers hold integer indices).
    @property
    def device(self) -> torch.device:
        return self._C.device

    @property
    def dtype(self) -> torch.dtype:
        return self._C.dtype

    def rest_params(self, batch_size: int = 1, shape: Sequence[float] | torch.Tensor | None = None) -> BodyParams:
        """Rest pose (identity rotations, root at the origin), axis-angle, mid shape (0.5; betas 0) by default."""
        kw = dict(device=self.device, dtype=self.dtype)
        if shape is None:
            mid = 0.0 if self.shape_range is None else 0.5 * (self.shape_range[0] + self.shape_range[1])
            s = torch.full((batch_size, len(self.shape_labels)), mid, **kw)
        else:
            s = torch.as_tensor(shape, **kw).reshape(-1, len(self.shape_labels)).expand(batch_size, -1).clone()
        return BodyParams(
            shape=s,
            pose=torch.zeros(batch_size, self.num_pose_joints, 3, **kw),
            global_orient=torch.zeros(batch_size, 3, **kw),
            transl=torch.zeros(batch_size, 3, **kw),
        )

    def check_params(self, params: BodyParams) -> int:
        """Raise ValueError on wrong shapes, non-finite values or shape values outside [0, 1]."""
        if not isinstance(params, BodyParams):
            raise TypeError(f"expected BodyParams, got {type(params).__name__}")
        s = params.shape
        if s.ndim != 2 or s.shape[1] != len(self.shape_labels):
            raise ValueError(
                f"shape must be (B, {len(self.shape_labels)}) {self.shape_labels}, got {tuple(s.shape)}"
            )
        b = s.shape[0]
        p = params.pose
        ok_pose = p.ndim in (3, 4) and p.shape[0] == b and p.shape[1] == self.num_pose_joints
        ok_pose = ok_pose and (p.shape[2:] in ((3,), (6,), (3, 3)))
        if not ok_pose:
            raise ValueError(
                f"pose must be (B={b}, {self.num_pose_joints}, 3|6|3x3) for {self.kind}, got {tuple(p.shape)}"
            )
        g = params.global_orient
        if not (g.shape[0] == b and g.shape[1:] in ((3,), (6,), (3, 3))):
            raise ValueError(f"global_orient must be (B={b}, 3|6|3x3), got {tuple(g.shape)}")
        if params.transl.shape != (b, 3):
            raise ValueError(f"transl must be (B={b}, 3), got {tuple(params.transl.shape)}")
        for name in ("shape", "pose", "global_orient", "transl"):
            t = getattr(params, name)
            if not torch.is_floating_point(t):
                raise ValueError(f"{name} must be a floating point tensor, got {t.dtype}")
            if not bool(torch.isfinite(t).all()):
                raise ValueError(f"{name} contains NaN or infinite values")
        lo_hi = self.shape_range
        if lo_hi is not None and bool(((s < lo_hi[0]) | (s > lo_hi[1])).any()):
            raise ValueError(
                f"shape values must lie in [{lo_hi[0]}, {lo_hi[1]}] (squash network outputs with a sigmoid)"
            )
        return b
