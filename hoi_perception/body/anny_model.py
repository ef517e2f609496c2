"""Default backend: the anny parametric human (pip ``anny==0.6.2``; code Apache-2.0, data CC0).

Only anny's own MakeHuman topology is used (never its ``smpl``/``smplx`` topologies, which
fetch non-commercial assets). Skinning is ``"lbs"`` (pure torch, differentiable).

How the canonical parameterisation drives anny's 104 bones: every anny bone follows the
global rotation G of the canonical joint that governs it (its nearest ancestor-or-self that
a canonical joint drives), through anny's ``"world-orient"`` pose parameterisation, in which
each bone is given its world orientation and its head follows its parent. Bones between
canonical joints (spine05/03, shoulder01, the twist bones, metacarpals, neck02/03, eyes)
therefore stay rigid with their governor, at rest relative to it.
"""
from __future__ import annotations

import functools
import threading

import torch

from hoi_perception.body import joints as J
from hoi_perception.body.interface import BodyModel, BodyOutput, BodyParams
from hoi_perception.geometry import to_matrix

# anny's native frame is z up with the body facing -y and its left side on +x. REP 103 body
# frame (x forward, y left, z up) = rotation of +90 deg about z: p_rep = C @ p_anny.
ANNY_TO_REP103 = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)

_RIGS = {
    "body": ("anny", "anny"),
    "hand_left": ("anny-hand.L", "hand.L"),
    "hand_right": ("anny-hand.R", "hand.R"),
}
_build_lock = threading.Lock()


@functools.lru_cache(maxsize=None)
def _anny_model(kind: str):
    """Build (or load from the persistent cache) anny's model once per process and kind."""
    from hoi_perception.paths import anny_cache_dir

    cache = anny_cache_dir()  # also sets ANNY_CACHE_DIR for anny processes spawned later
    import anny
    from anny.paths import set_anny_cache_path

    set_anny_cache_path(cache)
    rig, topology = _RIGS[kind]
    with _build_lock:
        model = anny.Anny(
            rig=rig,
            topology=topology,
            skinning_method="lbs",
            pose_parameterization="world-orient",
        )
    model.requires_grad_(False)
    return model


def _hand_frame(heads: dict[str, torch.Tensor], side: str) -> torch.Tensor:
    """Columns: the canonical hand axes in the frame of ``heads`` (REP 103 body frame).

    x: wrist -> middle-finger base; y: toward the thumb for a right hand, toward the pinky
    for a left hand (so both hands are mirror images across the xz plane); z = x cross y:
    the back of the hand for both.
    """
    s = "L" if side == "left" else "R"
    wrist, middle = heads[f"wrist.{s}"], heads[f"finger3-1.{s}"]
    index, pinky = heads[f"finger2-1.{s}"], heads[f"finger5-1.{s}"]
    x = torch.nn.functional.normalize(middle - wrist, dim=0)
    y = index - pinky if side == "right" else pinky - index
    y = torch.nn.functional.normalize(y - (y @ x) * x, dim=0)
    return torch.stack([x, y, torch.cross(x, y, dim=0)], dim=1)


def _levels(parents: list[int]) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """The tree's slots by depth: per level (its slots, each one's parent's position in the level
    above), and the permutation from the levels' concatenation back to slot order."""
    depth = [0] * len(parents)
    for i in range(1, len(parents)):
        depth[i] = depth[parents[i]] + 1
    levels, position = [], {}
    for d in range(max(depth) + 1):
        slots = [i for i in range(len(parents)) if depth[i] == d]
        above = [position[parents[i]] for i in slots] if d else [0] * len(slots)
        position.update({i: k for k, i in enumerate(slots)})
        levels.append((torch.tensor(slots), torch.tensor(above)))
    order = torch.cat([slots for slots, _ in levels])
    return levels, torch.argsort(order)


def _compose_down(local: torch.Tensor, tree) -> torch.Tensor:
    """(B, S, 3, 3) local rotations -> global ones, G_i = G_parent(i) L_i: one batched product per depth
    level of the tree instead of one per slot (the fitting core's forward and backward run this every step)."""
    levels, inverse = tree
    out = [local[:, levels[0][0]]]
    for slots, above in levels[1:]:
        out.append(out[-1][:, above] @ local[:, slots])
    return torch.cat(out, dim=1)[:, inverse]


class AnnyBodyModel(BodyModel):
    """anny full body (22 body joints, articulated fingers) or a single anny hand.

    Body: pose = 21 body joints (BODY_POSE_JOINTS) + 15 left + 15 right finger joints;
    finger rotations are expressed in the canonical hand frame (see ``_hand_frame``), the same
    frame as the hand models', so finger poses transfer between body and hand models.
    Hand: pose = 15 finger joints; global_orient/transl place the wrist; at rest the hand
    lies palm down (+z is its back) with the fingers along +x.
    """

    def __init__(self, kind: str = "body", device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32):
        super().__init__()
        if kind not in _RIGS:
            raise ValueError(f"kind must be one of {tuple(_RIGS)}, got {kind!r}")
        import copy

        import anny

        self.kind = kind
        self._last_rest: tuple[torch.Tensor, dict] | None = None
        base = _anny_model(kind)
        # A private copy so that .to() on one wrapper never changes another sharing the cache.
        self.anny = copy.deepcopy(base).to(device=device, dtype=dtype)
        self.shape_labels = tuple(self.anny.phenotype_labels)
        labels = list(self.anny.bone_labels)
        parents = [int(p) for p in self.anny.bone_parents]
        index = {name: i for i, name in enumerate(labels)}

        # Slots: 0 = root (global orientation), then one per pose joint.
        if kind == "body":
            self.joint_names, self.joint_parents = J.BODY_JOINTS, J.BODY_PARENTS
            pose_names = list(J.BODY_POSE_JOINTS)
            pose_names += [f"left_{n}" for n in J.HAND_POSE_JOINTS]
            pose_names += [f"right_{n}" for n in J.HAND_POSE_JOINTS]
            self.pose_joint_names = tuple(pose_names)
            slot_of_joint = {"pelvis": 0, **{n: i + 1 for i, n in enumerate(pose_names)}}
            slot_parent = [-1]
            for name in J.BODY_POSE_JOINTS:
                slot_parent.append(slot_of_joint[J.BODY_JOINTS[J.BODY_PARENTS[J.BODY_JOINTS.index(name)]]])
            drivers = {J.ANNY_BODY_BONES[n]: slot_of_joint[n] for n in J.BODY_JOINTS}
            for n, bones in J.ANNY_BODY_EXTRA_DRIVEN.items():
                drivers.update({b: slot_of_joint[n] for b in bones})
            sides = list(J.SIDES)
            joint_bones = [J.ANNY_BODY_BONES[n] for n in J.BODY_JOINTS]
        else:
            side = "left" if kind == "hand_left" else "right"
            self.joint_names, self.joint_parents = J.HAND_JOINTS, J.HAND_PARENTS
            self.pose_joint_names = J.HAND_POSE_JOINTS
            slot_of_joint = {"wrist": 0, **{n: i + 1 for i, n in enumerate(J.HAND_POSE_JOINTS)}}
            slot_parent = [-1]
            # A hand rig has a "root" bone above the wrist: it moves with the wrist.
            drivers = {labels[0]: 0}
            sides = [side]
            joint_bones = []
        hand_tables = {s: J.anny_hand_bones(s) for s in sides}
        for s in sides:
            prefix = f"{s}_" if kind == "body" else ""
            wrist_slot = slot_of_joint[f"{s}_wrist" if kind == "body" else "wrist"]
            for name in J.HAND_POSE_JOINTS:
                parent = J.HAND_JOINTS[J.HAND_PARENTS[J.HAND_JOINTS.index(name)]]
                slot_parent.append(wrist_slot if parent == "wrist" else slot_of_joint[prefix + parent])
                drivers[hand_tables[s][name][0]] = slot_of_joint[prefix + name]
            drivers[hand_tables[s]["wrist"][0]] = wrist_slot
        assert len(slot_parent) == len(self.pose_joint_names) + 1
        assert all(p < i for i, p in enumerate(slot_parent))
        self._slot_parent = slot_parent
        self._slot_levels = _levels(slot_parent)
        missing = [b for b in drivers if b not in index]
        if missing:
            raise RuntimeError(f"anny rig lacks the bones {missing}; is anny==0.6.2 installed?")

        governor = []
        for b in range(len(labels)):
            a = b
            while labels[a] not in drivers:
                a = parents[a]
                if a < 0:
                    raise RuntimeError(f"anny bone {labels[b]} has no governing canonical joint")
            governor.append(drivers[labels[a]])
        self.bone_labels = tuple(labels)
        self.register_buffer("_governor", torch.tensor(governor, dtype=torch.long), persistent=False)
        root_bone = J.ANNY_BODY_BONES["pelvis"] if kind == "body" else hand_tables[sides[0]]["wrist"][0]
        self._root_bone = index[root_bone]

        # Rest geometry at mid shape (float64) fixes the hand frames and the fingertip vertices.
        with torch.no_grad():
            ref = base
            coeffs = self._blend_coeffs(ref, torch.full((1, len(self.shape_labels)), 0.5, dtype=ref.dtype))
            rest = ref.get_rest_model(coeffs)
            C = ANNY_TO_REP103.to(ref.dtype)
            heads = {n: C @ rest["rest_bone_heads"][0, i] for n, i in index.items()}
            rest_v = rest["rest_vertices"][0] @ C.T
        frames = {s: _hand_frame(heads, s) for s in sides}

        # Per-slot conjugation: finger rotations are given in the hand frame H (columns = hand
        # axes in the body frame): R_body = H R_hand H^T. A hand model's rest is re-aligned so
        # that the hand frame becomes its body frame: G_slot <- G_slot H^T.
        conj = torch.eye(3, dtype=torch.float64).repeat(len(slot_parent), 1, 1)
        if kind == "body":
            for s in sides:
                for name in J.HAND_POSE_JOINTS:
                    conj[slot_of_joint[f"{s}_{name}"]] = frames[s]
            align = torch.eye(3, dtype=torch.float64)
        else:
            align = frames[sides[0]].T
        self.register_buffer("_conj", conj.to(dtype), persistent=False)
        self.register_buffer("_align", align.to(dtype), persistent=False)
        self.register_buffer("_C", ANNY_TO_REP103.to(dtype), persistent=False)

        # Joints: bone heads, except fingertips = the skin vertex of the distal bone farthest
        # along the distal bone (a fixed vertex, so it follows shape and pose exactly).
        w = ref.vertex_bone_weights
        dominant = ref.vertex_bone_indices.gather(1, w.argmax(dim=1, keepdim=True))[:, 0]
        hand_src = []  # per side: 21 (bone index or -1, vertex index or -1)
        for s in sides:
            src = []
            for name in J.HAND_JOINTS:
                bone, end = hand_tables[s][name]
                if end == "head":
                    src.append((index[bone], -1))
                    continue
                b = index[bone]
                prev = labels[parents[b]]
                direction = heads[bone] - heads[prev]
                cand = torch.nonzero(dominant == b)[:, 0]
                proj = (rest_v[cand] - heads[bone]) @ direction
                src.append((-1, int(cand[proj.argmax()])))
            hand_src.append(src)
        self.register_buffer(
            "_hand_bone_idx", torch.tensor([[max(b, 0) for b, _ in src] for src in hand_src]), persistent=False
        )
        self.register_buffer(
            "_hand_vert_idx", torch.tensor([[max(v, 0) for _, v in src] for src in hand_src]), persistent=False
        )
        self.register_buffer(
            "_hand_is_vert", torch.tensor([[v >= 0 for _, v in src] for src in hand_src]), persistent=False
        )
        if kind == "body":
            self.register_buffer(
                "_joint_bone_idx", torch.tensor([index[b] for b in joint_bones]), persistent=False
            )
            kp = anny.KeypointsRegressor.coco(ref)
            self.keypoint_names = tuple(kp.labels)
            self.register_buffer("_kp_weights", kp.regression_weights.to(dtype), persistent=False)
        else:
            self.keypoint_names = ()
            self.register_buffer("_kp_weights", torch.zeros(0, 0, dtype=dtype), persistent=False)
        self.register_buffer("_faces", ref.faces.to(torch.long), persistent=False)
        self.to(device)

    # ------------------------------------------------------------------------------------
    @staticmethod
    def _blend_coeffs(model, shape: torch.Tensor) -> torch.Tensor:
        empty = shape.new_zeros(shape.shape[0], 0)
        return model._get_phenotype_blendshape_coefficients(shape, empty, empty)

    def _rest_model(self, shape: torch.Tensor) -> dict:
        """anny's rest geometry for ``shape``; the last one is kept while the shape does not change
        and needs no gradient (a fit that holds the shape still poses the same rest body every step:
        a fifth of a hand's forward pass)."""
        if shape.requires_grad:
            return self.anny.get_rest_model(self._blend_coeffs(self.anny, shape))
        last = self._last_rest
        if (last is not None and last[0].shape == shape.shape and last[0].device == shape.device
                and last[0].dtype == shape.dtype and torch.equal(last[0], shape)):
            return last[1]
        with torch.no_grad():
            rest = self.anny.get_rest_model(self._blend_coeffs(self.anny, shape))
        self._last_rest = (shape.detach().clone(), rest)  # one assignment: threads see old or new
        return rest

    @property
    def faces(self) -> torch.Tensor:
        return self._faces

    @property
    def num_vertices(self) -> int:
        return int(self.anny.template_vertices.shape[0])

    def global_rotations(self, params: BodyParams) -> torch.Tensor:
        """(B, 1 + P, 3, 3) global rotations of the root and of every pose joint (body frame)."""
        b = params.batch_size
        local = self._conj @ torch.cat(
            [to_matrix(params.global_orient, "global_orient", 1)[:, None], to_matrix(params.pose, "pose", 2)], dim=1
        ).to(self.dtype) @ self._conj.transpose(-1, -2)
        g = _compose_down(local, self._slot_levels)
        if self.kind != "body":
            # Rotations act on the re-aligned rest hand: G_total = G A, A the rest alignment.
            g = g @ self._align
        return g.reshape(b, -1, 3, 3)

    def _skin(self, rest_vertices: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
        """Linear blend skinning, the same sum as anny's dense LBS, computed as one GEMM over
        all bones and samples, then one batched 3x4 product per vertex (2-3x faster on CPU)."""
        b, n = transforms.shape[:2]
        flat = transforms[:, :, :3, :].reshape(b, n, 12).permute(1, 0, 2).reshape(n, b * 12)
        blend = (self.anny.dense_vertex_bone_weights @ flat).reshape(-1, b, 3, 4)  # (V, B, 3, 4)
        homog = torch.cat([rest_vertices, torch.ones_like(rest_vertices[..., :1])], dim=-1)
        return torch.matmul(blend, homog.transpose(0, 1)[..., None])[..., 0].transpose(0, 1)

    def forward(self, params: BodyParams, keypoints: bool = False, validate: bool = True) -> BodyOutput:
        if validate:
            self.check_params(params)
        m = self.anny
        shape = params.shape.to(self.dtype)
        b = shape.shape[0]
        rest = self._rest_model(shape)
        rest_poses = rest["rest_bone_poses"]
        C = self._C
        g_body = self.global_rotations(params)
        g_anny = C.T @ g_body @ C  # the same rotations written in anny's axes
        g_bone = g_anny[:, self._governor]  # (B, N, 3, 3)
        rot = g_bone @ rest_poses[..., :3, :3]  # world orientation of every bone
        # Root bone: rotate about the root joint, then put the root joint at transl.
        head0 = rest_poses[:, 0, :3, 3]
        pivot = rest_poses[:, self._root_bone, :3, 3]
        t0 = (g_bone[:, 0] @ (head0 - pivot)[..., None])[..., 0] + params.transl.to(self.dtype) @ C
        trans = torch.cat([t0[:, None], rot.new_zeros(b, rot.shape[1] - 1, 3)], dim=1)
        top = torch.cat([rot, trans[..., None]], dim=-1)
        bottom = rot.new_tensor([0.0, 0.0, 0.0, 1.0]).expand(b, rot.shape[1], 1, 4)
        delta = torch.cat([top, bottom], dim=-2)
        transforms, poses = m.get_bone_transforms(delta, rest_poses, pose_parameterization="world-orient")
        verts = self._skin(rest["rest_vertices"], transforms) @ C.T
        heads = poses[..., :3, 3] @ C.T  # (B, N, 3)

        def hand_joints(i: int) -> torch.Tensor:
            from_bone = heads[:, self._hand_bone_idx[i]]
            from_vert = verts[:, self._hand_vert_idx[i]]
            return torch.where(self._hand_is_vert[i][None, :, None], from_vert, from_bone)

        kp = None
        if keypoints and self.keypoint_names:
            kp = torch.einsum("kv,bvd->bkd", self._kp_weights, verts)
        if self.kind == "body":
            return BodyOutput(
                vertices=verts,
                joints=heads[:, self._joint_bone_idx],
                faces=self._faces,
                joint_names=self.joint_names,
                hand_joints=torch.stack([hand_joints(0), hand_joints(1)], dim=1),
                keypoints=kp,
                keypoint_names=self.keypoint_names if kp is not None else (),
            )
        return BodyOutput(vertices=verts, joints=hand_joints(0), faces=self._faces, joint_names=self.joint_names)
