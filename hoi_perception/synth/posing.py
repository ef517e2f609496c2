"""Posing an anny body or hand for an interaction: templates, arm IK, palm placement, finger closing.

A `Poser` holds one body (or hand) model at one sampled shape, its rest skeleton and its hand
landmarks. Pose planning runs on the numpy skeleton (kinematics.py); the mesh is skinned by the
body model only to close the fingers (one batched call over flexion levels) and for the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from hoi_perception.body import BodyModel, BodyParams
from hoi_perception.body.joints import BODY_JOINTS, HAND_JOINTS
from hoi_perception.geometry import rotation_between

from .kinematics import FINGERS, HandGeometry, Skeleton, align_two, angle_of, forearm_dir, rot

SIDES = ("left", "right")
REFERENCE_SHAPE = np.array([0.5, 2.0 / 3.0, 0.5, 0.5, 0.5, 0.5])  # a young adult (age 2/3)
_TOPOLOGY: dict = {}  # id(model) -> (finger vertex sets, palm vertices, arm mask)
FLEX_LEVELS = 12  # candidate flexions per finger, evaluated in one batched skinning call
MAX_FLEX = np.deg2rad(np.array([55.0, 80.0, 80.0, 80.0, 80.0]))  # thumb .. pinky, per joint
JOINT_SHARE = np.array([0.9, 1.1, 0.8])  # proximal, middle, distal share of a finger's flexion


def _hand_slots(model: BodyModel, side: str | None) -> np.ndarray:
    """Indices of (finger, joint 1..3) in model.pose_joint_names, shape (5, 3)."""
    prefix = "" if side is None else f"{side}_"
    names = list(model.pose_joint_names)
    return np.array([[names.index(f"{prefix}{f}{k}") for k in (1, 2, 3)] for f in FINGERS])


def _hand_frames(model: BodyModel) -> torch.Tensor:
    """Per pose slot, the frame in which the model expects that slot's rotation (identity for body
    joints; the hand frame for finger joints). A rotation R in rest-body axes is passed as
    H^T R H; see body/anny_model.py."""
    conj = getattr(model, "_conj", None)
    if conj is None:
        return torch.eye(3).repeat(model.num_pose_joints + 1, 1, 1)
    return conj.detach().double()


class PoseError(ValueError):
    """A posing request that has no answer (a degenerate direction, a non-finite target)."""


@dataclass
class PosedBody:
    """A body (or hand) pose: rotations in rest-body axes plus the root placement."""

    shape: np.ndarray  # (S,)
    local: np.ndarray  # (P,3,3) per pose joint, rest-body axes
    root_R: np.ndarray = field(default_factory=lambda: np.eye(3))
    root_t: np.ndarray = field(default_factory=lambda: np.zeros(3))


class Poser:
    """One model at one shape: rest skeleton, hand landmarks, finger vertex sets."""

    def __init__(self, model: BodyModel, shape: np.ndarray, _reference: bool = False):
        self.model = model
        self.kind = model.kind
        self.shape = np.asarray(shape, dtype=np.float64)
        self.frames = _hand_frames(model)  # (1+P,3,3)
        with torch.no_grad():
            out = model(self.params(self.identity_pose()), validate=False) if _accepts_validate(model) \
                else model(self.params(self.identity_pose()))
        self.rest_vertices = out.vertices[0].double().numpy()
        self.faces = out.faces.numpy()
        if self.kind == "body":
            self.rest_joints = out.joints[0].double().numpy()
            self.rest_hands = out.hand_joints[0].double().numpy()
            self.skeleton = Skeleton(self.rest_joints, self.rest_hands)
            self.hand_sides = SIDES
            hands = {s: self.rest_hands[i] for i, s in enumerate(SIDES)}
            self.slots = {s: _hand_slots(model, s) for s in SIDES}
        else:
            side = "left" if self.kind == "hand_left" else "right"
            self.rest_joints = out.joints[0].double().numpy()
            self.hand_sides = (side,)
            hands = {side: self.rest_joints}
            self.slots = {side: _hand_slots(model, None)}
        # Which vertex belongs to which finger, palm or arm is a property of the topology: it is
        # computed once per model at a fixed reference shape (same labels in every process).
        key = id(model)
        if key not in _TOPOLOGY and not _reference:
            Poser(model, REFERENCE_SHAPE, _reference=True)
        if _reference:
            fingers = {s: self._finger_vertex_sets(j) for s, j in hands.items()}
            self.finger_vertices = fingers
            palms = {s: self._palm_vertices(s, j) for s, j in hands.items()}
            _TOPOLOGY[key] = (fingers, palms, self._arm_vertex_mask() if self.kind == "body" else None)
        self.finger_vertices, palms, self.arm_mask = _TOPOLOGY[key]
        self.hand_geometry = {s: HandGeometry.from_rest(j, s, self.rest_vertices[palms[s]]) for s, j in hands.items()}
        self.hand_vertex_ids = {s: np.concatenate([palms[s], *self.finger_vertices[s]]) for s in hands}

    # -- parameters ---------------------------------------------------------------------------
    def identity_pose(self) -> PosedBody:
        return PosedBody(self.shape.copy(), np.tile(np.eye(3), (self.model.num_pose_joints, 1, 1)))

    def params(self, poses: PosedBody | list[PosedBody]) -> BodyParams:
        """BodyParams (axis-angle) for one pose or a batch; converts finger rotations into the frames
        the model expects."""
        poses = [poses] if isinstance(poses, PosedBody) else poses
        local = torch.as_tensor(np.stack([p.local for p in poses]))  # (B,P,3,3)
        H = self.frames[1:]
        local = H.transpose(-1, -2) @ local @ H
        root = torch.as_tensor(np.stack([p.root_R for p in poses]))
        root = self.frames[0].T @ root @ self.frames[0]
        f32 = dict(dtype=torch.float32)
        return BodyParams(
            shape=torch.as_tensor(np.stack([p.shape for p in poses]), **f32),
            pose=torch.as_tensor(Rotation.from_matrix(local.reshape(-1, 3, 3).numpy()).as_rotvec()
                                 .reshape(len(poses), -1, 3), **f32),
            global_orient=torch.as_tensor(Rotation.from_matrix(root.numpy()).as_rotvec(), **f32),
            transl=torch.as_tensor(np.stack([p.root_t for p in poses]), **f32),
        )

    def skin(self, poses: PosedBody | list[PosedBody]):
        with torch.no_grad():
            return self.model(self.params(poses))

    # -- body-only helpers --------------------------------------------------------------------
    def body_local22(self, pose: PosedBody) -> np.ndarray:
        """(22,3,3) local rotations indexed like BODY_JOINTS (pelvis slot unused)."""
        out = np.tile(np.eye(3), (22, 1, 1))
        out[1:] = pose.local[:21]
        return out

    def set_body_local22(self, pose: PosedBody, local22: np.ndarray) -> None:
        pose.local[:21] = local22[1:]

    def reach(self, pose: PosedBody, side: str, palm_point: np.ndarray, palm_normal: np.ndarray,
              pole: np.ndarray, iterations: int = 2, swivels: int = 7) -> float:
        """Place the palm contact point of `side` at `palm_point`, palm facing `palm_normal`
        (pointing out of the palm, towards the object). The wrist's global orientation is set
        exactly; the elbow's swivel around the shoulder-wrist axis is chosen among `swivels`
        candidates around `pole` to keep the wrist nearest neutral. Returns the remaining palm
        distance (m): 0 unless the point is out of reach."""
        norm = float(np.linalg.norm(palm_normal))
        if not (np.isfinite(palm_point).all() and np.isfinite(norm) and norm > 1e-9):
            raise PoseError(f"cannot reach {palm_point} with palm normal {palm_normal}")
        n = palm_normal / norm
        axis = palm_point - self.shoulder(pose, side)
        best = None
        for ang in np.linspace(-1.0, 1.0, swivels):
            trial = PosedBody(pose.shape, pose.local.copy(), pose.root_R, pose.root_t)
            residual = self._reach_once(trial, side, palm_point, n, rot(axis, ang) @ pole, iterations)
            swing, twist = self.wrist_swing_twist(trial, side)
            cost = residual * 100.0 + swing + 0.7 * twist
            if best is None or cost < best[0]:
                best = (cost, residual, trial.local)
        pose.local[:] = best[2]
        return best[1]

    def _reach_once(self, pose: PosedBody, side: str, palm_point, n, pole, iterations: int) -> float:
        skel = self.skeleton
        geom = self.hand_geometry[side]
        local = self.body_local22(pose)
        w, e = skel.index[f"{side}_wrist"], skel.index[f"{side}_elbow"]
        for _ in range(iterations):
            fdir = forearm_dir(skel, local, pose.root_R, pose.root_t, side)
            fingers = fdir - np.dot(fdir, n) * n
            if np.linalg.norm(fingers) < 1e-3:
                fingers = np.cross(n, [0.0, 0.0, 1.0])
            G_w = align_two(geom.palm_normal, geom.finger_dir, n, fingers)
            skel.solve_arm(local, pose.root_R, pose.root_t, side, palm_point - G_w @ geom.palm_point, pole)
            _, G = skel.fk(local, pose.root_R, pose.root_t)
            local[w] = G[e].T @ G_w
        self.set_body_local22(pose, local)
        p, G = skel.fk(local, pose.root_R, pose.root_t)
        return float(np.linalg.norm(p[w] + G[w] @ geom.palm_point - palm_point))

    def shoulder(self, pose: PosedBody, side: str) -> np.ndarray:
        p, _ = self.skeleton.fk(self.body_local22(pose), pose.root_R, pose.root_t)
        return p[self.skeleton.index[f"{side}_shoulder"]]

    def arm_reach(self, side: str) -> float:
        """A shoulder-to-palm distance reachable whatever the palm orientation (m): the wrist
        reaches 95 % of the arm's length and the palm point may sit back towards the shoulder."""
        sk = self.skeleton
        s, e, w = (sk.rest_body[sk.index[f"{side}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
        arm = np.linalg.norm(e - s) + np.linalg.norm(w - e)
        return float(0.95 * arm - np.linalg.norm(self.hand_geometry[side].palm_point))

    def wrist_swing_twist(self, pose: PosedBody, side: str) -> tuple[float, float]:
        """The wrist's rotation relative to the forearm split into swing (flexion/deviation) and
        twist about the forearm axis (pronation/supination), both in rad."""
        sk = self.skeleton
        axis = sk.rest_body[sk.index[f"{side}_wrist"]] - sk.rest_body[sk.index[f"{side}_elbow"]]
        axis /= np.linalg.norm(axis)
        R = pose.local[_j(f"{side}_wrist")]
        swing = np.arccos(np.clip(np.dot(R @ axis, axis), -1.0, 1.0))
        twist = angle_of(rotation_between(R @ axis, axis) @ R)
        return float(swing), float(twist)

    def palm(self, pose: PosedBody, side: str) -> tuple[np.ndarray, np.ndarray]:
        """World palm contact point and palm normal of a body hand (or of a hand model)."""
        geom = self.hand_geometry[side]
        if self.kind == "body":
            p, G = self.skeleton.fk(self.body_local22(pose), pose.root_R, pose.root_t)
            w = self.skeleton.index[f"{side}_wrist"]
            return p[w] + G[w] @ geom.palm_point, G[w] @ geom.palm_normal
        return pose.root_t + pose.root_R @ geom.palm_point, pose.root_R @ geom.palm_normal

    def _palm_vertices(self, side: str, joints21: np.ndarray) -> np.ndarray:
        """Hand vertices beyond the wrist that are not on a finger's phalanges."""
        v = self.rest_vertices
        rel = v - joints21[0]
        fwd = joints21[HAND_JOINTS.index("middle1")] - joints21[0]
        fwd /= np.linalg.norm(fwd)
        near = np.nonzero((np.linalg.norm(rel, axis=1) < 0.12) & (rel @ fwd > 0.005))[0]
        return np.setdiff1d(near, np.concatenate(self.finger_vertices[side]))

    def _arm_vertex_mask(self) -> np.ndarray:
        """Rest vertices closer to an arm bone (upper arm, forearm, hand) than to the trunk."""
        j, idx = self.rest_joints, self.skeleton.index
        v = self.rest_vertices
        arm = [np.full(len(v), np.inf)]
        for side in SIDES:
            chain = [j[idx[f"{side}_shoulder"]], j[idx[f"{side}_elbow"]], j[idx[f"{side}_wrist"]],
                     self.rest_hands[SIDES.index(side)][HAND_JOINTS.index("middle4")]]
            arm += [_segment_distance(v, a, b) for a, b in zip(chain[:-1], chain[1:])]
        trunk_chain = [j[idx[n]] for n in ("pelvis", "spine1", "spine2", "spine3", "neck", "head")]
        trunk = [_segment_distance(v, a, b) for a, b in zip(trunk_chain[:-1], trunk_chain[1:])]
        for side in SIDES:
            trunk.append(_segment_distance(v, j[idx["spine3"]], j[idx[f"{side}_shoulder"]]))
            trunk.append(_segment_distance(v, j[idx[f"{side}_hip"]], j[idx[f"{side}_knee"]]))
        return np.min(arm, axis=0) < np.min(trunk, axis=0)

    # -- fingers ------------------------------------------------------------------------------
    def _finger_vertex_sets(self, joints21: np.ndarray) -> list[np.ndarray]:
        """Mesh vertices of each finger's phalanges: nearest bone segment among the hand's segments
        and, for a body, closer to the finger than to the rest of the skeleton."""
        idx = {n: i for i, n in enumerate(HAND_JOINTS)}
        segs, owner = [], []
        for f, finger in enumerate(FINGERS):
            chain = [idx[f"{finger}{k}"] for k in (1, 2, 3, 4)]
            first = 1 if finger == "thumb" else 0  # the thumb's metacarpal is part of the palm
            for a, b in zip(chain[first:-1], chain[first + 1:]):
                segs.append((joints21[a], joints21[b]))
                owner.append(f)
        for finger in FINGERS[1:]:  # palm segments compete so palm vertices are not claimed
            segs.append((joints21[0], joints21[idx[f"{finger}1"]]))
            owner.append(-1)
        segs.append((joints21[idx["thumb1"]], joints21[idx["thumb2"]]))
        owner.append(-1)
        v = self.rest_vertices
        near = np.linalg.norm(v - joints21[0], axis=1) < 0.25
        cand = np.nonzero(near)[0]
        d = np.stack([_segment_distance(v[cand], a, b) for a, b in segs], axis=1)
        best = np.argmin(d, axis=1)
        ok = d[np.arange(len(cand)), best] < 0.03
        owner = np.asarray(owner)
        return [cand[(owner[best] == f) & ok] for f in range(5)]

    def close_fingers(self, pose: PosedBody, sides, sdf_world, contact_eps: float = 0.003,
                      penetration_tol: float = 0.002, levels: int = FLEX_LEVELS) -> dict:
        """Close each finger of the hand(s) `sides` until it touches the object (sdf <= contact_eps)
        without penetrating deeper than `penetration_tol`, starting from slightly extended so a
        finger that already touches at rest can open. Every level of every hand is skinned in one
        batched call. Updates `pose`; returns per-side finger flexions (rad, negative = extended)."""
        sides = (sides,) if isinstance(sides, str) else tuple(sides)
        frac = np.linspace(-0.35, 1.0, levels)
        base = pose.local.copy()

        def flexed(local, side, amounts):
            geom, slots = self.hand_geometry[side], self.slots[side]
            for f in range(5):
                for k in range(3):
                    local[slots[f, k]] = rot(geom.flex_axes[f], amounts[f] * JOINT_SHARE[k]) @ base[slots[f, k]]

        cands = []
        for a in frac:
            p = PosedBody(pose.shape, base.copy(), pose.root_R, pose.root_t)
            for side in sides:
                flexed(p.local, side, a * MAX_FLEX)
            cands.append(p)
        verts = self.skin(cands).vertices.double().numpy()  # (L,V,3)
        chosen = {}
        for side in sides:
            amounts = np.zeros(5)
            for f in range(5):
                ids = self.finger_vertices[side][f]
                if len(ids) == 0:
                    continue
                dmin = sdf_world(verts[:, ids].reshape(-1, 3)).reshape(levels, -1).min(1)
                level = levels - 1
                for l in range(levels):
                    if dmin[l] < -penetration_tol:
                        level = max(l - 1, 0)
                        break
                    if dmin[l] <= contact_eps:
                        level = l
                        break
                amounts[f] = frac[level] * MAX_FLEX[f]
            flexed(pose.local, side, amounts)
            chosen[side] = amounts
        return chosen

    def relax_fingers(self, pose: PosedBody, side: str, rng: np.random.Generator, amount=(0.1, 0.45)) -> None:
        """A relaxed, slightly curled hand for a free hand."""
        geom = self.hand_geometry[side]
        slots = self.slots[side]
        for f in range(5):
            a = rng.uniform(*amount) * MAX_FLEX[f]
            for k in range(3):
                pose.local[slots[f, k]] = rot(geom.flex_axes[f], a * JOINT_SHARE[k]) @ pose.local[slots[f, k]]


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)


def _accepts_validate(model) -> bool:
    import inspect

    try:
        return "validate" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


# --- body pose templates (angles in rest-body axes: x forward, y left, z up) ---------------------
def _j(name: str) -> int:
    return BODY_JOINTS.index(name) - 1  # pose slot of a body joint (pelvis carries global orient)


def apply_body_template(pose: PosedBody, rng: np.random.Generator, template: str) -> None:
    """Legs, spine and head for an interaction. Positive rotation about y tilts a z-up segment
    forward; hip flexion is therefore negative about y, knee flexion positive."""
    L = pose.local
    u = rng.uniform

    def set_(name, R):
        L[_j(name)] = R @ L[_j(name)]

    spine_fwd = {"stand": u(-0.05, 0.15), "walk": u(0.0, 0.15), "crouch": u(0.3, 0.6), "lean": u(0.25, 0.7),
                 "sit": u(-0.1, 0.25)}[template]
    for s in ("spine1", "spine2", "spine3"):
        set_(s, rot([0, 1, 0], spine_fwd / 3.0) @ rot([0, 0, 1], u(-0.12, 0.12)) @ rot([1, 0, 0], u(-0.05, 0.05)))
    set_("neck", rot([0, 1, 0], u(-0.1, 0.3)) @ rot([0, 0, 1], u(-0.3, 0.3)))
    set_("head", rot([0, 1, 0], u(-0.1, 0.3)) @ rot([0, 0, 1], u(-0.3, 0.3)))
    if template == "stand":
        hips = [u(-0.15, 0.1), u(-0.15, 0.1)]
        knees = [u(0.0, 0.15), u(0.0, 0.15)]
    elif template == "walk":
        a = u(0.25, 0.5)
        hips = [-a, a * 0.6] if rng.random() < 0.5 else [a * 0.6, -a]
        knees = [u(0.05, 0.3), u(0.2, 0.6)]
    elif template == "crouch":
        h = u(0.9, 1.6)
        hips = [-h + u(-0.1, 0.1), -h + u(-0.1, 0.1)]
        knees = [h * u(1.0, 1.4), h * u(1.0, 1.4)]
    elif template == "lean":  # pushing: one leg forward, body leaning
        a = u(0.2, 0.5)
        hips = [-a, u(0.1, 0.3)] if rng.random() < 0.5 else [u(0.1, 0.3), -a]
        knees = [u(0.1, 0.4), u(0.0, 0.2)]
    else:  # sit
        hips = [-u(1.35, 1.65), -u(1.35, 1.65)]
        knees = [u(1.3, 1.75), u(1.3, 1.75)]
    for i, side in enumerate(SIDES):
        abduct = u(0.0, 0.15) * (1 if side == "left" else -1)  # rotate the leg outwards about x
        set_(f"{side}_hip", rot([0, 1, 0], hips[i]) @ rot([1, 0, 0], abduct) @ rot([0, 0, 1], u(-0.15, 0.15)))
        set_(f"{side}_knee", rot([0, 1, 0], knees[i]))
        set_(f"{side}_ankle", rot([0, 1, 0], -0.5 * (knees[i] + hips[i]) * u(0.0, 0.6)))


def relax_arm(poser: Poser, pose: PosedBody, side: str, rng: np.random.Generator) -> None:
    """A free arm hanging near the body (anny's rest is an A-pose with the arms ~45 deg out)."""
    sgn = 1.0 if side == "left" else -1.0
    L = pose.local
    sh, el = _j(f"{side}_shoulder"), _j(f"{side}_elbow")
    L[sh] = rot([1, 0, 0], -sgn * rng.uniform(0.2, 0.7)) @ rot([0, 1, 0], rng.uniform(-0.4, 0.25)) @ L[sh]
    skel = poser.skeleton
    i_s, i_e, i_w = (skel.index[f"{side}_{n}"] for n in ("shoulder", "elbow", "wrist"))
    hinge = np.cross(skel.rest_body[i_e] - skel.rest_body[i_s], skel.rest_body[i_w] - skel.rest_body[i_e])
    L[el] = rot(hinge, rng.uniform(-0.3, 0.5)) @ L[el]
    poser.relax_fingers(pose, side, rng)
