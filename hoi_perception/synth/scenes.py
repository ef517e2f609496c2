"""Interaction scenes: an anny body posed in contact with a library object, on a ground plane.

Interactions: holding (one or two hands), carrying, lifting, pushing and sitting on. Every scene is
built the same way: a body template (legs, spine, head), the object chosen and placed relative to
the body, arms solved by IK so the palms touch the object surface, fingers closed until contact,
then a penetration check against the object's signed distance field (rejection if deeper than
`PENETRATION_TOLERANCE`). The world frame is REP 103 with the ground at z = 0; the body faces +x.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy.spatial.transform import Rotation

from hoi_perception.geometry import rotation_between
from hoi_perception.objects.asset import ObjectAsset
from hoi_perception.objects.fields import SignedDistanceGrid

from .kinematics import rot
from .posing import PosedBody, PoseError, Poser, apply_body_template, relax_arm

PENETRATION_TOLERANCE = 0.01  # m: deepest body vertex allowed inside the object
PALM_GAP = 0.002  # m: palm skin to object surface at placement
HAND_TOUCH = 0.005  # m: a hand in contact has skin this close to the object surface
MAX_REACH_RESIDUAL = 0.005  # m: palm farther than this from its target -> reject
MAX_WRIST_SWING = np.deg2rad(90.0)  # wrist flexion/deviation beyond this is not anatomical -> reject
MAX_WRIST_TWIST = np.deg2rad(110.0)  # forearm pronation/supination range
INTERACTIONS = {"hold_two": 0.22, "hold_one": 0.22, "carry": 0.15, "lift": 0.1, "push": 0.08, "sit": 0.23}
SIT_KINDS = ("stool", "chair", "box")


class SceneRejected(Exception):
    """The sampled configuration is not physically plausible; the caller draws again."""


@dataclass
class PlacedObject:
    asset: ObjectAsset
    sdf: SignedDistanceGrid
    scale: float
    R: np.ndarray  # world from object canonical frame (rotation)
    t: np.ndarray  # world position of the canonical origin

    @property
    def pose(self) -> np.ndarray:
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = self.R, self.t
        return T

    def to_world(self, p: np.ndarray) -> np.ndarray:
        return (self.scale * np.asarray(p)) @ self.R.T + self.t

    def sdf_world(self, p: np.ndarray) -> np.ndarray:
        local = (np.asarray(p, dtype=np.float64) - self.t) @ self.R / self.scale
        return self.scale * self.sdf.query(local)

    def normal_world(self, p: np.ndarray, h: float = 0.004) -> np.ndarray:
        """Outward surface normal from the SDF gradient (central differences)."""
        p = np.atleast_2d(p)
        g = np.stack([self.sdf_world(p + h * e) - self.sdf_world(p - h * e) for e in np.eye(3)], axis=1)
        norm = np.linalg.norm(g, axis=1, keepdims=True)
        if not np.all(norm > 1e-9):  # flat field (e.g. a point deep inside a thin part): no normal
            raise SceneRejected("no surface normal at the contact point")
        return g / norm

    def penetration_depth(self, points: np.ndarray) -> float:
        """Deepest point inside the object (m, >= 0). The distance field screens; points it puts
        within a voxel of the surface or inside get trimesh's exact signed distance, on the
        canonical mesh (its spatial index is built once per asset)."""
        sd = self.sdf_world(points)
        near = np.nonzero(sd < self.sdf.pitch * self.scale + 0.001)[0]
        if not len(near):
            return 0.0
        local = (np.asarray(points, dtype=np.float64)[near] - self.t) @ self.R / self.scale
        inside = trimesh.proximity.signed_distance(self.asset.mesh, local) * self.scale  # positive inside
        return float(max(0.0, inside.max()))

    def surface_points_world(self) -> np.ndarray:
        return self.to_world(self.asset.surface_points)

    def march(self, start: np.ndarray, direction: np.ndarray, max_dist: float = 1.5) -> np.ndarray | None:
        """First surface point along a ray (sphere tracing on the SDF), or None."""
        d = direction / np.linalg.norm(direction)
        travelled = 0.0
        p = np.asarray(start, dtype=np.float64)
        for _ in range(200):
            s = float(self.sdf_world(p[None])[0])
            if s < 5e-4:
                return p
            step = max(s, 5e-4)
            travelled += step
            if travelled > max_dist:
                return None
            p = p + step * d
        return None


@dataclass
class Scene:
    interaction: str
    poser: Poser
    pose: PosedBody
    obj: PlacedObject
    hands_in_contact: tuple[str, ...]
    vertices: np.ndarray  # (V,3) world
    joints: np.ndarray  # (22,3)
    hand_joints: np.ndarray  # (2,21,3)
    penetration: float  # deepest body vertex inside the object (m, >= 0)


def sample_shape(rng: np.random.Generator) -> np.ndarray:
    """anny phenotypes (gender, age, muscle, weight, height, proportions) of adults and teenagers:
    age 0.5 is a teenager, 2/3 a young adult, 1 old."""
    lo = np.array([0.0, 0.5, 0.1, 0.1, 0.15, 0.2])
    hi = np.array([1.0, 1.0, 0.9, 0.9, 0.9, 0.8])
    return rng.uniform(lo, hi)


def random_orientation(rng: np.random.Generator, upright_prob: float = 0.7) -> np.ndarray:
    if rng.random() < upright_prob:
        return rot([0, 0, 1], rng.uniform(-np.pi, np.pi)) @ rot(rng.normal(size=3), rng.uniform(0.0, 0.25))
    return Rotation.random(random_state=int(rng.integers(2**31))).as_matrix()


def _ground_body(poser: Poser, pose: PosedBody) -> np.ndarray:
    """Lift the body so its lowest vertex touches z = 0; returns the skinned vertices."""
    out = poser.skin(pose)
    v = out.vertices[0].double().numpy()
    pose.root_t = pose.root_t + np.array([0.0, 0.0, -v[:, 2].min()])
    return v - np.array([0.0, 0.0, v[:, 2].min()])


def _place_support(obj: PlacedObject, palm_point: np.ndarray, palm_normal: np.ndarray) -> None:
    """Move the object so that its extreme point against the palm touches the palm."""
    pts = obj.surface_points_world()
    i = int(np.argmin(pts @ palm_normal))
    obj.t = obj.t + (palm_point + PALM_GAP * palm_normal - pts[i])


def rest_on_ground(obj: PlacedObject) -> None:
    pts = obj.to_world(obj.asset.vertices)
    obj.t = obj.t + np.array([0.0, 0.0, -pts[:, 2].min()])


def axis_to_z(axis: int) -> np.ndarray:
    """Rotation taking the object's canonical axis `axis` to world z."""
    return rotation_between(np.eye(3)[axis], np.array([0.0, 0.0, 1.0]))


def _clear_of_body(obj: PlacedObject, body_vertices: np.ndarray, margin: float = 0.01, steps: int = 25) -> None:
    """Slide the object forward (+x) until no given body vertex (trunk and legs: the arms are
    posed afterwards) is within `margin` of it."""
    for _ in range(steps):
        depth = -float(obj.sdf_world(body_vertices).min())
        if depth <= -margin:
            return
        obj.t = obj.t + np.array([max(depth + margin, 0.02), 0.0, 0.0])
    raise SceneRejected("object cannot be placed clear of the body")


def _pole(side: str) -> np.ndarray:
    return np.array([-0.4, 0.7 if side == "left" else -0.7, -1.0])


class SceneSampler:
    """Draws interaction scenes. `objects(kind_filter, rng)` returns (asset, sdf) pairs."""

    def __init__(self, poser_factory, object_source, rng: np.random.Generator):
        self.poser_factory = poser_factory  # shape -> Poser
        self.objects = object_source  # (rng, predicate) -> (ObjectAsset, SignedDistanceGrid)
        self.rng = rng

    def sample(self, interaction: str | None = None, max_tries: int = 12) -> Scene:
        last = None
        for _ in range(max_tries):
            kind = interaction or self._draw_interaction()
            try:
                return self._build(kind)
            except SceneRejected as exc:
                last = exc
            except (PoseError, np.linalg.LinAlgError) as exc:  # a degenerate draw (zero normal...)
                last = SceneRejected(f"degenerate configuration: {exc}")
        raise SceneRejected(f"no plausible scene after {max_tries} tries (last: {last})")

    def _draw_interaction(self) -> str:
        names = list(INTERACTIONS)
        p = np.array([INTERACTIONS[n] for n in names])
        return names[int(self.rng.choice(len(names), p=p / p.sum()))]

    # -- construction ---------------------------------------------------------------------------
    def _build(self, interaction: str) -> Scene:
        rng = self.rng
        shape = sample_shape(rng)
        poser = self.poser_factory(shape)
        pose = poser.identity_pose()
        template = {"hold_two": "stand", "hold_one": "stand", "carry": "walk", "lift": "crouch",
                    "push": "lean", "sit": "sit"}[interaction]
        apply_body_template(pose, rng, template)
        _ground_body(poser, pose)
        pelvis = pose.root_t  # the root joint is the pelvis
        if interaction in ("hold_two", "lift") or (interaction == "carry" and rng.random() < 0.5):
            obj, hands = self._two_hand_hold(poser, pose, pelvis, interaction)
        elif interaction in ("hold_one", "carry"):
            obj, hands = self._one_hand_hold(poser, pose, pelvis, interaction)
        elif interaction == "push":
            obj, hands = self._push(poser, pose, pelvis)
        else:
            obj, hands = self._sit(poser, pose)
        for side in ("left", "right"):
            if side not in hands:
                relax_arm(poser, pose, side, rng)
        out = poser.skin(pose)
        v = out.vertices[0].double().numpy()
        for side in hands:
            if float(obj.sdf_world(v[poser.hand_vertex_ids[side]]).min()) > HAND_TOUCH:
                raise SceneRejected(f"{side} hand does not touch the object")
        penetration = obj.penetration_depth(v)
        if penetration > PENETRATION_TOLERANCE:
            raise SceneRejected(f"body penetrates the object by {penetration * 100:.1f} cm")
        if v[:, 2].min() < -0.02:
            raise SceneRejected("body below the ground")
        if obj.to_world(obj.asset.vertices)[:, 2].min() < -0.005:
            raise SceneRejected("object below the ground")
        return Scene(interaction, poser, pose, obj, tuple(hands), v, out.joints[0].double().numpy(),
                     out.hand_joints[0].double().numpy(), penetration)

    def _object(self, predicate, scale_range=(1.0, 1.0), procedural_scale=(1.0, 1.0)) -> PlacedObject:
        asset, sdf = self.objects(self.rng, predicate)
        lo, hi = procedural_scale if asset.source == "procedural" else scale_range
        s = float(self.rng.uniform(lo, hi))
        return PlacedObject(asset, sdf, s, np.eye(3), np.zeros(3))

    def _two_hand_hold(self, poser: Poser, pose: PosedBody, pelvis: np.ndarray, interaction: str):
        rng = self.rng
        obj = self._object(lambda a: 0.1 <= max(a.extents) <= 0.6 and a.params.get("kind") not in ("stool", "chair"))
        obj.R = random_orientation(rng)
        # Turn the object so its widest horizontal direction lies across the body, between the palms.
        pts = obj.surface_points_world()
        xy = pts[:, :2] - pts[:, :2].mean(0)
        evals, evecs = np.linalg.eigh(xy.T @ xy)
        major = evecs[:, 1]
        obj.R = rot([0, 0, 1], np.pi / 2 - np.arctan2(major[1], major[0]) + rng.uniform(-0.3, 0.3)) @ obj.R
        if obj.asset.source == "procedural":  # size procedural templates for two hands
            width = np.ptp(obj.surface_points_world()[:, 1])
            obj.scale = float(rng.uniform(0.22, 0.45) / max(width, 1e-3))
            if not 0.5 <= obj.scale <= 3.0:
                raise SceneRejected("template cannot be scaled to a two-handed size")
        lateral = np.array([0.0, 1.0, 0.0])
        half = 0.5 * np.ptp(obj.surface_points_world() @ lateral)
        if not 0.06 <= half <= 0.3:
            raise SceneRejected(f"object width {2 * half:.2f} m not holdable with two hands")
        mid = 0.5 * (poser.shoulder(pose, "left") + poser.shoulder(pose, "right"))
        shoulder_half = 0.5 * np.linalg.norm(poser.shoulder(pose, "left") - poser.shoulder(pose, "right"))
        reach = min(poser.arm_reach("left"), poser.arm_reach("right"))
        lateral_gap = abs(half - shoulder_half)
        if lateral_gap >= reach:
            raise SceneRejected("no reachable holding position")
        planar = np.sqrt(reach * reach - lateral_gap * lateral_gap)
        lo, hi = {"hold_two": (-50.0, 5.0), "carry": (-70.0, -40.0), "lift": (-80.0, -45.0)}[interaction]
        phi = np.deg2rad(rng.uniform(lo, hi))
        r = rng.uniform(0.6, 0.95) * planar
        f, z = max(r * np.cos(phi), 0.12), r * np.sin(phi)
        centre = mid + np.array([f, 0.0, z])
        obj.t = obj.t + centre - obj.to_world(np.zeros((1, 3)))[0]
        bottom = obj.to_world(obj.asset.vertices)[:, 2].min()
        if bottom < 0.0:
            obj.t[2] -= bottom
        _clear_of_body(obj, poser.skin(pose).vertices[0].double().numpy()[~poser.arm_mask])
        centre = obj.to_world(np.zeros((1, 3)))[0]
        contacts = {}
        for side, sgn in (("left", 1.0), ("right", -1.0)):
            start = centre + sgn * 0.8 * lateral + np.array([0.0, 0.0, rng.uniform(-0.03, 0.03)])
            q = obj.march(start, -sgn * lateral)
            if q is None:
                raise SceneRejected("no surface for the palms")
            contacts[side] = q
        self._grip(poser, pose, obj, contacts)
        return obj, ("left", "right")

    def _grip(self, poser: Poser, pose: PosedBody, obj: PlacedObject, contacts: dict) -> None:
        """Palms onto their contact points, fingers closed; a hand whose skin still enters the
        object (curved surfaces under a flat palm) is backed off along the normal once."""
        hands = tuple(contacts)
        offsets = {side: PALM_GAP for side in hands}
        for attempt in range(2):
            for side in hands:
                q = contacts[side]
                n_out = obj.normal_world(q)[0]
                residual = poser.reach(pose, side, q + offsets[side] * n_out, -n_out, _pole(side))
                self._check_arm(poser, pose, side, residual)
            poser.close_fingers(pose, hands, obj.sdf_world)
            if attempt == 1:
                return
            v = poser.skin(pose).vertices[0].double().numpy()
            retry = False
            for side in hands:
                ids = poser.hand_vertex_ids[side]
                depth = -float(obj.sdf_world(v[ids]).min())
                if depth > 0.5 * PENETRATION_TOLERANCE:
                    offsets[side] += depth
                    retry = True
            if not retry:
                return

    def _check_arm(self, poser: Poser, pose: PosedBody, side: str, residual: float) -> None:
        if residual > MAX_REACH_RESIDUAL:
            raise SceneRejected(f"{side} palm misses its target by {residual * 100:.1f} cm")
        swing, twist = poser.wrist_swing_twist(pose, side)
        if swing > MAX_WRIST_SWING or twist > MAX_WRIST_TWIST:
            raise SceneRejected(f"{side} wrist bent {np.degrees(swing):.0f} deg, twisted {np.degrees(twist):.0f} deg")

    def _one_hand_hold(self, poser: Poser, pose: PosedBody, pelvis: np.ndarray, interaction: str):
        rng = self.rng
        side = "left" if rng.random() < 0.5 else "right"
        sgn = 1.0 if side == "left" else -1.0
        obj = self._object(lambda a: max(a.extents) <= 0.32 and a.params.get("kind") not in ("stool", "chair"),
                           procedural_scale=(0.8, 1.2))
        obj.R = random_orientation(rng)
        reach = poser.arm_reach(side)
        if interaction == "carry":  # arm down at the side
            direction = np.array([rng.uniform(-0.1, 0.25), sgn * rng.uniform(0.05, 0.35), -1.0])
            dist = rng.uniform(0.85, 1.0) * reach
            normal = np.array([rng.uniform(-0.3, 0.3), sgn * rng.uniform(0.0, 0.4), -1.0])  # hangs clear of the leg
        else:
            direction = np.array([rng.uniform(0.4, 1.0), sgn * rng.uniform(-0.35, 0.5), rng.uniform(-0.9, 0.5)])
            dist = rng.uniform(0.55, 1.0) * reach
            normal = np.array([rng.uniform(-0.3, 0.6), -sgn * rng.uniform(0.2, 1.0), rng.uniform(-0.6, 0.8)])
        target = poser.shoulder(pose, side) + dist * direction / np.linalg.norm(direction)
        normal /= np.linalg.norm(normal)
        residual = poser.reach(pose, side, target, normal, _pole(side))
        self._check_arm(poser, pose, side, residual)
        palm, n = poser.palm(pose, side)
        _place_support(obj, palm, n)
        poser.close_fingers(pose, side, obj.sdf_world)
        return obj, (side,)

    def _push(self, poser: Poser, pose: PosedBody, pelvis: np.ndarray):
        rng = self.rng
        for _ in range(6):  # scale small templates up to furniture: crates, cabinets, drums
            obj = self._object(lambda a: a.params.get("kind") in ("box", "cylinder", "superquadric"))
            ext = obj.asset.extents
            up = int(np.argmax(ext))
            obj.R = rot([0, 0, 1], rng.uniform(-0.3, 0.3)) @ axis_to_z(up)
            obj.scale = float(rng.uniform(1.0, 1.6) / ext[up])
            foot = np.delete(ext, up) * obj.scale
            if foot.min() >= 0.25 and foot.max() <= 1.2:
                break
        else:
            raise SceneRejected("no pushable object of plausible footprint")
        rest_on_ground(obj)
        shoulders = {s: poser.shoulder(pose, s) for s in ("left", "right")}
        reach = min(poser.arm_reach(s) for s in shoulders)
        pts = obj.to_world(obj.asset.vertices)
        dx = rng.uniform(0.25, 0.6) * reach
        front = float(np.mean([p[0] for p in shoulders.values()])) + dx
        obj.t = obj.t + np.array([front - pts[:, 0].min(), pelvis[1] - pts[:, 1].mean(), 0.0])
        _clear_of_body(obj, poser.skin(pose).vertices[0].double().numpy()[~poser.arm_mask])
        top = obj.to_world(obj.asset.vertices)[:, 2].max()
        contacts = {}
        for side, sgn in (("left", 1.0), ("right", -1.0)):
            drop = np.sqrt(max(reach * reach - dx * dx - 0.02, 0.0))
            lo, hi = shoulders[side][2] - 0.85 * drop, min(top - 0.03, shoulders[side][2] + 0.3 * drop)
            if hi <= lo:
                raise SceneRejected("object too low to push with the hands")
            start = np.array([shoulders[side][0], shoulders[side][1] + sgn * rng.uniform(-0.05, 0.05), rng.uniform(lo, hi)])
            q = obj.march(start, np.array([1.0, 0.0, 0.0]))
            if q is None or np.linalg.norm(q - shoulders[side]) > reach:
                raise SceneRejected("nothing to push within reach")
            contacts[side] = q
        self._grip(poser, pose, obj, contacts)
        return obj, ("left", "right")

    def _sit(self, poser: Poser, pose: PosedBody):
        rng = self.rng
        out = poser.skin(pose)
        v = out.vertices[0].double().numpy()
        pelvis = pose.root_t
        rel = v - pelvis
        under = (np.linalg.norm(rel[:, :2], axis=1) < 0.18) & (rel[:, 2] < 0.0)
        if not under.any():
            raise SceneRejected("no buttock vertices under the pelvis")
        seat_z = float(v[under, 2].min())
        obj = self._object(lambda a: a.params.get("kind") in SIT_KINDS)
        kind = obj.asset.params.get("kind")
        if kind in ("stool", "chair"):
            canon_top = obj.asset.grasp["sit_height"] - float(obj.asset.mesh.bounds[0][2])
        else:
            canon_top = float(obj.asset.extents[2])
        obj.scale = seat_z / canon_top
        if kind == "box":  # a box as a bench: scale it to seat height, keep the footprint plausible
            if not 0.3 <= obj.scale * max(obj.asset.extents[:2]) <= 1.2:
                obj.scale = float(np.clip(obj.scale, 0.3 / max(obj.asset.extents[:2]), 1.2 / max(obj.asset.extents[:2])))
                if abs(obj.scale * canon_top - seat_z) > 0.01:
                    raise SceneRejected("box cannot be a seat at this height")
        elif not 0.7 <= obj.scale <= 1.4:
            raise SceneRejected(f"seat height {seat_z:.2f} m too far from the {kind}")
        obj.R = rot([0, 0, 1], rng.uniform(-0.2, 0.2))
        rest_on_ground(obj)
        pts = obj.to_world(obj.asset.vertices)
        centre_xy = pts[:, :2].mean(0)
        back = rng.uniform(0.0, 0.08)
        obj.t = obj.t + np.array([pelvis[0] - back - centre_xy[0], pelvis[1] - centre_xy[1], 0.0])
        # Sink the body onto the seat: the seat top is where the buttocks are.
        top = obj.to_world(obj.asset.vertices)[:, 2].max() if kind == "box" else seat_z
        lift = top + PALM_GAP - seat_z
        pose.root_t = pose.root_t + np.array([0.0, 0.0, lift])
        return obj, ()
