"""Optional backend for users who own SMPL-X / MANO model files (extra ``[smplx]``).

The ``smplx`` package (MPI non-commercial licence) and the model files are never installed
or downloaded by this project: a user installs ``smplx`` and points ``model_dir`` (or
``$HOI_SMPLX_DIR``) at a folder holding ``smplx/SMPLX_NEUTRAL.npz`` and/or
``mano/MANO_RIGHT.pkl`` / ``mano/MANO_LEFT.pkl`` (the layout ``smplx.create`` expects).

The same interface as the anny backend, with two differences: ``shape`` holds the model's
betas (unbounded, 10 values), and no COCO keypoint regressor is provided. Conventions are
converted so that poses mean the same thing as with anny: the body frame is REP 103 (SMPL's
own frame is y up, z forward), local rotations are in body-frame axes, and finger rotations
in the canonical hand frame (x wrist -> middle base, z the back of the hand).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from hoi_perception.body import joints as J
from hoi_perception.body.interface import BodyModel, BodyOutput, BodyParams
from hoi_perception.geometry import to_matrix

# p_rep103 = SMPL_TO_REP103 @ p_smpl (SMPL: x left, y up, z forward).
SMPL_TO_REP103 = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
# MANO / SMPL-X hand joint order (index, middle, pinky, ring, thumb; 3 each) -> ours.
_MANO_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
_TIPS = ("thumb", "index", "middle", "ring", "pinky")
NUM_BETAS = 10


def default_model_dir() -> Path:
    env = os.environ.get("HOI_SMPLX_DIR")
    if env:
        return Path(env)
    from hoi_perception.paths import cache_dir

    return cache_dir() / "smplx"


def _import_smplx():
    try:
        import smplx  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "the 'smplx' body model backend needs the optional package 'smplx' "
            "(MPI non-commercial licence), which is not installed: "
            "pip install 'hoi_perception[smplx]' and supply your own SMPL-X/MANO model files; "
            "or use the default backend load_body_model('anny')"
        ) from exc
    return smplx


def _mano_to_ours() -> list[int]:
    """Index into MANO's 15 finger joints for each of HAND_POSE_JOINTS."""
    mano = [f"{f}{k}" for f in _MANO_FINGERS for k in (1, 2, 3)]
    return [mano.index(n) for n in J.HAND_POSE_JOINTS]


def _frame(wrist, index1, middle1, pinky1, side: str) -> torch.Tensor:
    x = torch.nn.functional.normalize(middle1 - wrist, dim=0)
    y = index1 - pinky1 if side == "right" else pinky1 - index1
    y = torch.nn.functional.normalize(y - (y @ x) * x, dim=0)
    return torch.stack([x, y, torch.cross(x, y, dim=0)], dim=1)


class SmplxBodyModel(BodyModel):
    """SMPL-X body (kind "body") or MANO hand ("hand_left" / "hand_right")."""

    shape_range = None  # betas are unbounded

    def __init__(self, kind: str = "body", device="cpu", dtype=torch.float32, model_dir: str | Path | None = None):
        super().__init__()
        smplx = _import_smplx()
        from smplx.vertex_ids import vertex_ids

        folder = Path(model_dir) if model_dir is not None else default_model_dir()
        side = {"hand_left": "left", "hand_right": "right"}.get(kind)
        if kind == "body":
            needed = [folder / "smplx" / f"SMPLX_NEUTRAL.{ext}" for ext in ("npz", "pkl")]
        elif side is not None:
            needed = [folder / "mano" / f"MANO_{side.upper()}.pkl"]
        else:
            raise ValueError(f"kind must be 'body', 'hand_left' or 'hand_right', got {kind!r}")
        if not any(p.is_file() for p in needed):
            raise FileNotFoundError(
                f"SMPL-X/MANO model files not found: expected {' or '.join(map(str, needed))} "
                f"(model folder {folder}; set model_dir or $HOI_SMPLX_DIR)"
            )
        self.kind = kind
        self.shape_labels = tuple(f"beta{i}" for i in range(NUM_BETAS))
        common = dict(num_betas=NUM_BETAS, use_pca=False, flat_hand_mean=True, batch_size=1)
        if kind == "body":
            self.smpl = smplx.create(str(folder), model_type="smplx", gender="neutral", use_face_contour=False, **common)
            self.joint_names, self.joint_parents = J.BODY_JOINTS, J.BODY_PARENTS
            self.pose_joint_names = (
                J.BODY_POSE_JOINTS
                + tuple(f"left_{n}" for n in J.HAND_POSE_JOINTS)
                + tuple(f"right_{n}" for n in J.HAND_POSE_JOINTS)
            )
            vid = vertex_ids["smplx"]
            tips = [[vid[f"{s[0]}{t}"] for t in _TIPS] for s in J.SIDES]
        else:
            self.smpl = smplx.create(str(folder), model_type="mano", is_rhand=side == "right", **common)
            self.joint_names, self.joint_parents = J.HAND_JOINTS, J.HAND_PARENTS
            self.pose_joint_names = J.HAND_POSE_JOINTS
            vid = vertex_ids["mano"]
            tips = [[vid[t] for t in _TIPS]]
        self.smpl.requires_grad_(False)
        self.smpl.to(device=device, dtype=dtype)
        self._side = side
        self.register_buffer("_tips", torch.tensor(tips), persistent=False)
        self.register_buffer("_mano_order", torch.tensor(_mano_to_ours()), persistent=False)

        # Rest joints (zero betas) give the hand frames used to express finger rotations.
        C = SMPL_TO_REP103
        with torch.no_grad():
            rest = self.smpl(return_verts=True)
        rj = rest.joints[0].double().cpu() @ C.T
        if kind == "body":
            # SMPL-X joints: 20/21 wrists, 25-39 left hand, 40-54 right hand, MANO order.
            frames = []
            for s, wrist, base in (("left", 20, 25), ("right", 21, 40)):
                frames.append(_frame(rj[wrist], rj[base], rj[base + 3], rj[base + 6], s))
            model_from_ours = [C.T] + [C.T @ f for f in frames]  # body axes, left hand, right hand
            self.register_buffer("_m", torch.stack(model_from_ours).to(dtype), persistent=False)
            self.register_buffer("_align", torch.eye(3, dtype=dtype), persistent=False)
        else:
            f = _frame(rj[0], rj[1], rj[4], rj[7], side)
            self.register_buffer("_m", (C.T @ f)[None].to(dtype), persistent=False)
            self.register_buffer("_align", (C.T @ f).to(dtype), persistent=False)
        self.register_buffer("_C", C.to(dtype), persistent=False)
        self.to(device)

    @property
    def faces(self) -> torch.Tensor:
        return torch.as_tensor(self.smpl.faces.astype("int64"), device=self._C.device)

    @property
    def num_vertices(self) -> int:
        return int(self.smpl.v_template.shape[0])

    @staticmethod
    def _aa(rot: torch.Tensor) -> torch.Tensor:
        from hoi_perception.geometry import matrix_to_axis_angle

        return matrix_to_axis_angle(rot)

    def forward(self, params: BodyParams, keypoints: bool = False, validate: bool = True) -> BodyOutput:
        if validate:
            self.check_params(params)
        b = params.batch_size
        dt = self.dtype
        pose = to_matrix(params.pose, "pose", 2).to(dt)
        # A rotation R in our frame is M R M^T in the model's, M = model-from-ours axes.
        m0 = self._m[0] if self.kind == "body" else self._align
        glob = m0 @ to_matrix(params.global_orient, "global_orient", 1).to(dt) @ m0.T
        if self.kind == "body":
            body = self._m[0] @ pose[:, :21] @ self._m[0].T
            hands = [self._m[1 + i] @ pose[:, 21 + 15 * i : 36 + 15 * i] @ self._m[1 + i].T for i in range(2)]
            inv = torch.argsort(self._mano_order)
            out = self.smpl(
                betas=params.shape.to(dt),
                global_orient=self._aa(glob).reshape(b, 3),
                body_pose=self._aa(body).reshape(b, -1),
                left_hand_pose=self._aa(hands[0][:, inv]).reshape(b, -1),
                right_hand_pose=self._aa(hands[1][:, inv]).reshape(b, -1),
                jaw_pose=torch.zeros(b, 3, dtype=dt, device=self.device),
                leye_pose=torch.zeros(b, 3, dtype=dt, device=self.device),
                reye_pose=torch.zeros(b, 3, dtype=dt, device=self.device),
                expression=torch.zeros(b, self.smpl.num_expression_coeffs, dtype=dt, device=self.device),
                transl=torch.zeros(b, 3, dtype=dt, device=self.device),
            )
            root = out.joints[:, :1]
        else:
            hand = self._m[0] @ pose @ self._m[0].T
            inv = torch.argsort(self._mano_order)
            out = self.smpl(
                betas=params.shape.to(dt),
                global_orient=self._aa(glob).reshape(b, 3),
                hand_pose=self._aa(hand[:, inv]).reshape(b, -1),
                transl=torch.zeros(b, 3, dtype=dt, device=self.device),
            )
            root = out.joints[:, :1]
        # Rotations were conjugated into the model's frame; map the result back to ours and
        # place the root joint at transl.
        to_ours = self._C if self.kind == "body" else self._align.T
        verts = (out.vertices - root) @ to_ours.T + params.transl.to(dt)[:, None]
        jts = (out.joints - root) @ to_ours.T + params.transl.to(dt)[:, None]

        def hand(joints_base: int, tips_row: int, wrist: int) -> torch.Tensor:
            mano = jts[:, joints_base : joints_base + 15]
            rows = [jts[:, wrist]]
            for f in _TIPS:
                k = _MANO_FINGERS.index(f)
                rows += [mano[:, 3 * k], mano[:, 3 * k + 1], mano[:, 3 * k + 2]]
                rows.append(verts[:, self._tips[tips_row, _TIPS.index(f)]])
            return torch.stack(rows, dim=1)

        if self.kind == "body":
            return BodyOutput(
                vertices=verts,
                joints=jts[:, :22],
                faces=self.faces,
                joint_names=self.joint_names,
                hand_joints=torch.stack([hand(25, 0, 20), hand(40, 1, 21)], dim=1),
            )
        return BodyOutput(vertices=verts, joints=hand(1, 0, 0), faces=self.faces, joint_names=self.joint_names)
