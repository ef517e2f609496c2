"""The synthetic HOI data engine: one call turns a seed into a fully labelled sample.

`SampleMaker(split, size)(kind, seed)` is what `generate.generate_dataset` calls in every worker:
kind "fullbody" gives a full-body scene rendered from two wide-baseline views (CrossHOI's pair),
kind "hand" gives a clip of `frames` views of a hand holding an object while hand and camera move
(ForeHOI's input). Heavy state (body model, renderer, object library, distance fields) is built
once per process and reused; everything random comes from the sample's own seed, so a sample's
bytes depend only on (kind, seed, split, size, frames, framing, distractors, generator version).
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

from hoi_perception import assets
from hoi_perception.assets import object_library
from hoi_perception.body.joints import BODY_JOINTS
from hoi_perception.objects.fields import SignedDistanceGrid, VoxelGrid, occupancy_voxels, signed_distance_grid

from .cameras import Camera, intrinsics_from_fov, look_at, view_pair
from .distractors import DISTRACTOR_ID, MAX_DISTRACTORS, distractor_rng, place_distractors
from .kinematics import rot
from .posing import PosedBody, PoseError, Poser
from .scenes import PENETRATION_TOLERANCE, Scene, SceneRejected, SceneSampler

GENERATOR_VERSION = "1.1.0"
BODY_JOINTS_INDEX = {n: i for i, n in enumerate(BODY_JOINTS)}
KINDS = ("fullbody", "hand")
SPLITS = ("train", "heldout")
CONTACT_THRESHOLD = 0.05  # m: the field's body-object contact definition (BEHAVE/CONTHO)
HAND_CONTACT_THRESHOLD = 0.005  # m: hand-object contact in grasp clips
# Instance ids in rendered masks (0 = background, the floor included).
BODY_ID, LEFT_HAND_ID, RIGHT_HAND_ID, OBJECT_ID = 1, 2, 3, 4
FLOOR_ID = 5
MIN_VISIBLE_PIXELS = 40  # the input view must show the object (and, in clips, the hand)
INSTANCE_NAMES = {0: "background", BODY_ID: "body", LEFT_HAND_ID: "left_hand", RIGHT_HAND_ID: "right_hand",
                  OBJECT_ID: "object"}


# --- per-process state ---------------------------------------------------------------------------
def body_model():
    """The shared body model with torch on one thread: the engine runs one worker per core, and
    intra-op threads would fight each other (set here, not in `assets`, so live code keeps its own)."""
    import torch

    torch.set_num_threads(1)
    return assets.body_model()


@functools.cache
def renderer(size: int):
    from hoi_perception.render import SceneRenderer

    return SceneRenderer(width=size, height=size)


@functools.cache
def body_regions() -> np.ndarray:
    """(V, 2) per body vertex: column 0 the material region (0 skin: head and hands, 1 upper
    clothing, 2 lower clothing, 3 shoes), column 1 the hand it belongs to (-1 none, 0 left,
    1 right), which splits the body into the body and hand instances. Fixed, from the rest mesh."""
    poser = Poser(body_model(), np.full(6, 0.5))
    v, j = poser.rest_vertices, poser.rest_joints
    idx = BODY_JOINTS_INDEX
    out = np.full((len(v), 2), -1, dtype=np.int8)
    z = v[:, 2]
    neck_z = j[idx["neck"]][2]
    pelvis_z = j[idx["pelvis"]][2]
    ankle_z = 0.5 * (j[idx["left_ankle"]][2] + j[idx["right_ankle"]][2])
    region = np.where(z > neck_z, 0, np.where(z > pelvis_z - 0.02, 1, np.where(z > ankle_z + 0.03, 2, 3)))
    for s, side in enumerate(("left", "right")):
        w, e = j[idx[f"{side}_wrist"]], j[idx[f"{side}_elbow"]]
        d = (w - e) / np.linalg.norm(w - e)
        rel = v - w
        hand = ((rel @ d) > -0.01) & (np.linalg.norm(rel, axis=1) < 0.25)
        out[hand, 1] = s
        region[hand] = 0
    out[:, 0] = region
    return out


def _field_cache_path(asset, what: str, resolution: int):
    from hoi_perception.paths import cache_dir

    h = hashlib.sha256(np.ascontiguousarray(asset.vertices).tobytes() + np.ascontiguousarray(asset.faces).tobytes())
    folder = cache_dir() / "fields"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{asset.id}-{what}{resolution}-{h.hexdigest()[:16]}.npz"


def _cached_field(asset, what: str, resolution: int):
    import os
    import tempfile

    path = _field_cache_path(asset, what, resolution)
    if path.is_file():
        try:
            with np.load(path) as z:
                if what == "sdf":
                    return SignedDistanceGrid(z["grid"], z["origin"], float(z["pitch"]))
                return VoxelGrid(z["grid"], z["origin"], float(z["pitch"]))
        except (OSError, ValueError, KeyError):
            pass  # a torn cache file is rebuilt below
    field = signed_distance_grid(asset.mesh, resolution) if what == "sdf" else occupancy_voxels(asset.mesh, resolution)
    grid = field.sdf if what == "sdf" else field.occupancy
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        np.savez(f, grid=grid, origin=field.origin, pitch=field.pitch)
    os.replace(tmp, path)
    return field


@functools.cache
def object_sdf(obj_id: str) -> SignedDistanceGrid:
    return _cached_field(object_library().get(obj_id), "sdf", 80)


@functools.cache
def object_voxels(obj_id: str) -> VoxelGrid:
    return _cached_field(object_library().get(obj_id), "vox", 64)


def warm_up_worker() -> None:
    """Per worker process: the body model, regions and renderer context (objects load lazily)."""
    body_model()
    body_regions()


# --- samplers ------------------------------------------------------------------------------------
def _object_source(split: str):
    lib = object_library()

    def draw(rng: np.random.Generator, predicate):
        ids = [i for i in lib.ids(split) if predicate(lib.get(i))]
        if not ids:
            raise SceneRejected("no object in the split fits this interaction")
        oid = ids[int(rng.integers(len(ids)))]
        return lib.get(oid), object_sdf(oid)

    return draw


def _poser_factory(shape):
    return Poser(body_model(), shape)


def _png(image: np.ndarray) -> np.ndarray:
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.reshape(-1)


def decode_png(buf: np.ndarray) -> np.ndarray:
    """Inverse of the engine's PNG storage (RGB images come back as RGB)."""
    img = cv2.imdecode(np.asarray(buf, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError("not a PNG image")
    if img.ndim == 3:
        img = img[..., ::-1]
    return img


@dataclass
class RenderedView:
    rgb: np.ndarray
    depth: np.ndarray
    instance: np.ndarray
    amodal_object: np.ndarray
    occlusion: float


def _meshes(scene_vertices, faces, obj, body_mat, hand_mats, obj_mat, floor, clutter=()):
    from hoi_perception.render import RenderMesh

    face_hand = _face_hand_owner()
    meshes = []
    parts = ((BODY_ID, face_hand < 0, body_mat), (LEFT_HAND_ID, face_hand == 0, hand_mats[0]),
             (RIGHT_HAND_ID, face_hand == 1, hand_mats[1]))
    for iid, sel, mat in parts:
        meshes.append(RenderMesh(iid, scene_vertices.astype(np.float32), faces[sel], mat))
    meshes.append(RenderMesh(OBJECT_ID, (obj.asset.vertices * obj.scale).astype(np.float32), obj.asset.faces,
                             obj_mat, pose=obj.pose))
    if floor is not None:
        meshes.append(floor)
    for k, (thing, mat) in enumerate(clutter):  # distractors: background in the stored masks
        meshes.append(RenderMesh(DISTRACTOR_ID + k, (thing.asset.vertices * thing.scale).astype(np.float32),
                                 thing.asset.faces, mat, pose=thing.pose))
    return meshes


@functools.cache
def _face_hand_owner() -> np.ndarray:
    """Per body face: -1 body, 0 left hand, 1 right hand (a face is a hand's when all its
    vertices are), so the three instance meshes share no face."""
    faces = body_model().faces.numpy()
    owner = body_regions()[:, 1][faces]
    return np.where((owner == owner[:, :1]).all(axis=1), owner[:, 0], -1)


def _floor(rng: np.random.Generator, centre: np.ndarray):
    from hoi_perception.render import Material, RenderMesh
    from hoi_perception.render import randomize as R

    half = 4.0
    v = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]], np.float32)
    v[:, :2] += centre[:2].astype(np.float32)
    f = np.array([[0, 1, 2], [0, 2, 3]])
    reps = rng.uniform(2.0, 8.0)
    uv = np.array([[0, 0], [reps, 0], [reps, reps], [0, reps]], np.float32)
    mat = Material(base_color=(1, 1, 1, 1), roughness=float(rng.uniform(0.4, 1.0)),
                   texture=R.texture_image(rng, 128), uv=uv)
    return RenderMesh(FLOOR_ID, v, f, mat)


def _materials(rng: np.random.Generator, n_vertices: int, obj):
    from hoi_perception.render import randomize as R

    regions = body_regions()[:, 0].copy()
    if rng.random() < 0.5:
        regions[regions == 3] = 2  # same colour for trousers and shoes sometimes
    body = R.body_material(rng, n_vertices, regions, skin_labels=(0,))
    # The hand instances are parts of the same mesh: they share the body's per-vertex colours.
    hands = (body, body)
    obj_mat = R.random_material(rng, vertices=obj.asset.vertices * obj.scale)
    return body, hands, obj_mat


def _render(scene_vertices, faces, obj, cam: Camera, mats, floor, background, lighting, clutter=()) -> RenderedView:
    r = renderer(cam.width)
    meshes = _meshes(scene_vertices, faces, obj, *mats, floor, clutter)
    res = r.render(meshes, cam.K, cam.world_to_cam, lighting=lighting, background=background, amodal_ids=[OBJECT_ID])
    inst = res.instance.copy()
    inst[(inst == FLOOR_ID) | (inst >= DISTRACTOR_ID)] = 0
    return RenderedView(res.rgb, res.depth, inst.astype(np.uint8), res.amodal[OBJECT_ID],
                        float(res.occlusion[OBJECT_ID]))


def _depth_png(depth: np.ndarray) -> np.ndarray:
    return _png(np.clip(np.round(depth * 1000.0), 0, 65535).astype(np.uint16))


def _store_view(arrays: dict, suffix: str, view: RenderedView) -> None:
    arrays[f"rgb_{suffix}"] = _png(view.rgb[..., ::-1])
    arrays[f"depth_{suffix}"] = _depth_png(view.depth)
    arrays[f"instance_{suffix}"] = _png(view.instance)
    arrays[f"amodal_object_{suffix}"] = _png(view.amodal_object.astype(np.uint8) * 255)


def contact_labels_fast(points: np.ndarray, obj, threshold: float) -> np.ndarray:
    """Points within `threshold` of the object surface. The distance field decides far from the
    threshold; near it, a point whose nearest mesh vertex is within the threshold is in contact
    (a vertex lies on the surface), and only the rest get exact point-to-triangle distances."""
    from scipy.spatial import cKDTree

    from hoi_perception.geometry import point_mesh_distance

    sd = obj.sdf_world(points)
    band = obj.sdf.pitch * obj.scale + 0.001
    out = sd <= threshold - band
    near = np.nonzero(np.abs(sd - threshold) < band)[0]
    if len(near):
        verts = obj.to_world(obj.asset.vertices)
        dv, _ = cKDTree(verts).query(points[near])
        sure = dv <= threshold
        out[near[sure]] = True
        rest = near[~sure]
        if len(rest):
            d = point_mesh_distance(points[rest], verts, obj.asset.faces, max_distance=threshold)
            out[rest] = d <= threshold
    return out


def _body_contact_of_object(obj_points: np.ndarray, body_vertices: np.ndarray, faces: np.ndarray,
                            threshold: float) -> np.ndarray:
    from scipy.spatial import cKDTree

    from hoi_perception.geometry import point_mesh_distance

    d, _ = cKDTree(body_vertices).query(obj_points, distance_upper_bound=threshold + 0.03)
    out = np.zeros(len(obj_points), dtype=bool)
    cand = np.nonzero(np.isfinite(d))[0]
    if len(cand):
        near_v = np.nonzero(np.linalg.norm(body_vertices - obj_points[cand].mean(0), axis=1)
                            < np.max(np.linalg.norm(obj_points[cand] - obj_points[cand].mean(0), axis=1)) + threshold + 0.05)[0]
        keep = np.isin(faces, near_v).all(axis=1)
        dist = point_mesh_distance(obj_points[cand], body_vertices, faces[keep], max_distance=threshold + 0.01)
        out[cand] = dist <= threshold
    return out


# hand clips: how much of the image the hand + object bounding sphere's diameter fills. "closeup"
# frames the grasp as a phone or wrist camera held near it would: the object large, often cut by the border
FRAMINGS = {"default": (0.55, 0.85), "closeup": (0.85, 1.4)}


class SampleMaker:
    """Picklable sample factory for `generate_dataset`: `maker(kind, seed) -> (arrays, meta)`."""

    def __init__(self, split: str = "train", size: int = 256, frames: int = 6, framing: str = "default",
                 distractors: int = 0):
        if not 0 <= distractors <= MAX_DISTRACTORS:
            raise ValueError(f"distractors must be within 0..{MAX_DISTRACTORS}, got {distractors}")
        self.distractors = int(distractors)  # full-body scenes: up to this many untouched objects around
        if framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {sorted(FRAMINGS)}, got {framing!r}")
        self.framing = framing
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if not 64 <= size <= 1024:
            raise ValueError(f"image size must be within 64..1024, got {size}")
        if not 2 <= frames <= 16:
            raise ValueError(f"frames per clip must be within 2..16, got {frames}")
        self.split, self.size, self.frames = split, int(size), int(frames)

    def params(self) -> dict:
        p = {"split": self.split, "size": self.size, "frames": self.frames, "generator_version": GENERATOR_VERSION}
        # only when not the default, so the manifests of datasets made before the options still match
        if self.framing != "default":
            p["framing"] = self.framing
        if self.distractors:
            p["distractors"] = self.distractors
        return p

    def __call__(self, kind: str, seed: int):
        if kind not in KINDS:
            raise ValueError(f"unknown sample kind {kind!r}; choose one of {KINDS}")
        make = self.fullbody if kind == "fullbody" else self.hand_clip
        # A seed whose draws keep being implausible is replaced by seeds derived from it, so one
        # unlucky seed never stops a dataset and the result still depends on the seed alone.
        last = None
        for attempt in range(8):
            sub = seed if attempt == 0 else int(np.random.SeedSequence([seed, attempt]).generate_state(1, np.uint64)[0])
            try:
                arrays, meta = make(sub)
                meta["seed"], meta["attempt"] = int(seed), attempt
                return arrays, meta
            except (SceneRejected, PoseError, np.linalg.LinAlgError) as exc:
                last = exc
        raise RuntimeError(f"sample seed {seed}: no plausible {kind} scene in 8 derived seeds ({last})")

    # -- full body ----------------------------------------------------------------------------
    def fullbody(self, seed: int):
        rng = np.random.default_rng(seed)
        scene = SceneSampler(_poser_factory, _object_source(self.split), rng).sample()
        faces = scene.poser.faces
        centre, radius = _bounding_sphere(np.vstack([scene.vertices, scene.obj.to_world(scene.obj.asset.vertices)]))
        cams = view_pair(rng, centre, radius, self.size, self.size, facing_azimuth=0.0)
        mats = _materials(rng, len(scene.vertices), scene.obj)
        floor = _floor(rng, centre) if rng.random() < 0.8 else None
        from hoi_perception.render import randomize as R

        clutter = self._clutter(seed, scene)
        arrays: dict = {}
        views = []
        for k, cam in enumerate(cams):
            bg = R.random_background(rng, self.size, self.size)
            light = R.random_lighting(rng, cam.world_to_cam, target=centre)
            view = _render(scene.vertices, faces, scene.obj, cam, mats, floor, bg, light, clutter)
            if k == 0 and np.count_nonzero(view.instance == OBJECT_ID) < MIN_VISIBLE_PIXELS:
                raise SceneRejected("object hidden in the input view")
            _store_view(arrays, str(k), view)
            views.append(view)
        arrays.update(self._body_labels(scene, cams))
        arrays["occlusion_object"] = np.array([v.occlusion for v in views], np.float32)
        meta = {"kind": "fullbody", "interaction": scene.interaction, "object_id": scene.obj.asset.id,
                "object_source": scene.obj.asset.source, "split": self.split,
                "hands_in_contact": list(scene.hands_in_contact), "seed": int(seed),
                "generator_version": GENERATOR_VERSION, "views": len(cams)}
        if self.distractors:  # scenes made without the option stay byte-identical
            meta["distractors"] = len(clutter)
        return arrays, meta

    def _clutter(self, seed: int, scene: Scene) -> list:
        """(placed object, material) per distractor: between 0 and ``distractors`` of them, from their
        own random stream (`distractors.py`)."""
        if not self.distractors:
            return []
        from hoi_perception.render import randomize as R

        rng = distractor_rng(seed)
        points = np.vstack([scene.vertices, scene.obj.to_world(scene.obj.asset.vertices)])
        placed = place_distractors(rng, _object_source(self.split), points, int(rng.integers(0, self.distractors + 1)))
        return [(p, R.random_material(rng, vertices=p.asset.vertices * p.scale)) for p in placed]

    def _body_labels(self, scene: Scene, cams) -> dict:
        from hoi_perception.body.vertex_subset import load_subset

        subset = load_subset("body").indices.numpy()
        params = scene.poser.params(scene.pose)
        obj = scene.obj
        contact = contact_labels_fast(scene.vertices, obj, CONTACT_THRESHOLD)
        obj_sub = obj.to_world(obj.asset.subset_vertices)
        obj_contact = _body_contact_of_object(obj_sub, scene.vertices, scene.poser.faces, CONTACT_THRESHOLD)
        joints_all = np.vstack([scene.joints, scene.hand_joints.reshape(-1, 3)])
        kp = obj.to_world(obj.asset.keypoints)
        return {
            "K": np.stack([c.K for c in cams]).astype(np.float32),
            "world_to_cam": np.stack([c.world_to_cam for c in cams]).astype(np.float32),
            "body_shape": params.shape[0].numpy(),
            "body_pose": params.pose[0].numpy(),
            "body_global_orient": params.global_orient[0].numpy(),
            "body_transl": params.transl[0].numpy(),
            "body_joints": scene.joints.astype(np.float32),
            "hand_joints": scene.hand_joints.astype(np.float32),
            "joints_2d": np.stack([c.project(joints_all)[0] for c in cams]).astype(np.float32),
            "body_vertices_subset": scene.vertices[subset].astype(np.float32),
            "body_contact_bits": np.packbits(contact),
            "body_contact_subset": contact[subset].astype(np.uint8),
            "object_pose": obj.pose.astype(np.float32),
            "object_scale": np.asarray(obj.scale, np.float32),
            "object_subset_vertices": obj_sub.astype(np.float32),
            "object_contact": obj_contact.astype(np.uint8),
            "object_keypoints": kp.astype(np.float32),
            "object_keypoints_2d": np.stack([c.project(kp)[0] for c in cams]).astype(np.float32),
            "penetration": np.asarray(scene.penetration, np.float32),
        }

    # -- hand-object clips ----------------------------------------------------------------------
    def hand_clip(self, seed: int):
        rng = np.random.default_rng(seed)
        for _ in range(8):
            scene = SceneSampler(_poser_factory, _object_source(self.split), rng).sample(
                "hold_one" if rng.random() < 0.85 else "carry")
            if len(scene.hands_in_contact) == 1:
                try:
                    frames = self._clip_frames(scene, rng)
                    break
                except (SceneRejected, PoseError):
                    continue
        else:
            raise SceneRejected("no plausible hand-object clip after 8 tries")
        side = scene.hands_in_contact[0]
        s = 0 if side == "left" else 1
        poser, obj = scene.poser, scene.obj
        verts_t, joints_t, hands_t, obj_poses, poses_t = frames
        centre, radius = _bounding_sphere(np.vstack([hands_t[0][s], obj.to_world(obj.asset.vertices)]))
        # Look at the hand from the side away from the torso, so the body does not hide it.
        chest = joints_t[0][BODY_JOINTS_INDEX["spine3"]]
        outward = centre - chest
        cams = _clip_cameras(rng, centre, radius, self.size, self.frames, facing=float(np.arctan2(outward[1], outward[0])),
                             fill_range=FRAMINGS[self.framing])
        mats = _materials(rng, len(scene.vertices), obj)
        from hoi_perception.render import randomize as R

        bg = R.random_background(rng, self.size, self.size)
        light = R.random_lighting(rng, cams[0].world_to_cam, target=centre)
        floor = _floor(rng, centre) if rng.random() < 0.3 else None
        arrays: dict = {}
        occl = []
        for t, cam in enumerate(cams):
            obj.R, obj.t = obj_poses[t][:3, :3], obj_poses[t][:3, 3]
            view = _render(verts_t[t], poser.faces, obj, cam, mats, floor, bg, light)
            hand_px = int(np.count_nonzero(view.instance == (LEFT_HAND_ID if s == 0 else RIGHT_HAND_ID)))
            obj_px = int(np.count_nonzero(view.instance == OBJECT_ID))
            if hand_px < MIN_VISIBLE_PIXELS or obj_px < MIN_VISIBLE_PIXELS:
                raise SceneRejected(f"frame {t}: hand ({hand_px} px) or object ({obj_px} px) hardly visible")
            _store_view(arrays, str(t), view)
            occl.append(view.occlusion)
        # Labels in each frame's camera frame (what a camera-only system can recover).
        cam_obj = np.stack([c.world_to_cam @ P for c, P in zip(cams, obj_poses)])
        hand_cam = np.stack([c.to_camera(h[s]) for c, h in zip(cams, hands_t)])
        hand_2d = np.stack([c.project(h[s])[0] for c, h in zip(cams, hands_t)])
        params = poser.params(poses_t)
        slots = poser.slots[side].reshape(-1)
        vox = object_voxels(obj.asset.id)
        obj.R, obj.t = obj_poses[0][:3, :3], obj_poses[0][:3, 3]
        hand_vertices = np.nonzero(body_regions()[:, 1] == s)[0]
        hand_contact = contact_labels_fast(verts_t[0][hand_vertices], obj, HAND_CONTACT_THRESHOLD)
        obj_sub = obj.to_world(obj.asset.subset_vertices)
        obj_contact = _body_contact_of_object(obj_sub, verts_t[0], poser.faces, HAND_CONTACT_THRESHOLD)
        arrays.update({
            "K": np.stack([c.K for c in cams]).astype(np.float32),
            "world_to_cam": np.stack([c.world_to_cam for c in cams]).astype(np.float32),
            "cam_from_object": cam_obj.astype(np.float32),
            "object_scale": np.asarray(obj.scale, np.float32),
            "object_voxels_bits": np.packbits(vox.occupancy.reshape(-1)),
            "object_voxel_origin": (vox.origin * obj.scale).astype(np.float32),
            "object_voxel_pitch": np.asarray(vox.pitch * obj.scale, np.float32),
            "object_contact": obj_contact.astype(np.uint8),
            "hand_joints_cam": hand_cam.astype(np.float32),
            "hand_joints_2d": hand_2d.astype(np.float32),
            "hand_finger_pose": params.pose[0].numpy()[slots],
            "hand_vertex_ids": hand_vertices.astype(np.int32),
            "hand_contact": hand_contact.astype(np.uint8),
            "body_shape": params.shape[0].numpy(),
            "body_pose": params.pose.numpy(),  # (T, 51, 3): the arm moves from frame to frame
            "body_global_orient": params.global_orient[0].numpy(),
            "body_transl": params.transl[0].numpy(),
            "body_joints_world": joints_t.astype(np.float32),
            "occlusion_object": np.array(occl, np.float32),
        })
        meta = {"kind": "hand", "side": side, "object_id": obj.asset.id, "object_source": obj.asset.source,
                "split": self.split, "frames": self.frames, "seed": int(seed),
                "generator_version": GENERATOR_VERSION, "camera_moving": _moving(cams)}
        if self.framing != "default":  # default clips stay byte-identical to those made before the option
            meta["framing"] = self.framing
        return arrays, meta

    def _clip_frames(self, scene: Scene, rng: np.random.Generator):
        """Hand and object move together (the object is rigid in the wrist frame)."""
        poser, obj = scene.poser, scene.obj
        side = scene.hands_in_contact[0]
        wrist = poser.skeleton.index[f"{side}_wrist"]
        p0, G0 = poser.skeleton.fk(poser.body_local22(scene.pose), scene.pose.root_R, scene.pose.root_t)
        W0 = _rigid(G0[wrist], p0[wrist])
        obj_in_wrist = np.linalg.inv(W0) @ obj.pose
        palm0, n0 = poser.palm(scene.pose, side)
        amp = rng.uniform(0.02, 0.12)
        ang = rng.uniform(0.1, 0.5)
        dir_t = rng.normal(size=3)
        axis = rng.normal(size=3)
        poses = []
        for t in range(self.frames):
            a = t / max(self.frames - 1, 1) - 0.5
            pose_t = PosedBody(scene.pose.shape, scene.pose.local.copy(), scene.pose.root_R, scene.pose.root_t)
            target = palm0 + amp * a * dir_t / np.linalg.norm(dir_t)
            normal = rot(axis, ang * a) @ n0
            res = poser.reach(pose_t, side, target, normal, np.array([-0.4, 0.7 if side == "left" else -0.7, -1.0]))
            if res > 0.02:
                raise SceneRejected("clip leaves the arm's reach")
            poses.append(pose_t)
        out = poser.skin(poses)
        verts = out.vertices.double().numpy()
        obj_poses = []
        for t, pose_t in enumerate(poses):
            p, G = poser.skeleton.fk(poser.body_local22(pose_t), pose_t.root_R, pose_t.root_t)
            P = _rigid(G[wrist], p[wrist]) @ obj_in_wrist
            obj_poses.append(P)
            obj.R, obj.t = P[:3, :3], P[:3, 3]
            pen = obj.penetration_depth(verts[t])
            if pen > PENETRATION_TOLERANCE:
                raise SceneRejected(f"frame {t}: body penetrates the object by {pen * 100:.1f} cm")
        return verts, out.joints.double().numpy(), out.hand_joints.double().numpy(), obj_poses, poses


def _rigid(R: np.ndarray, t: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, t
    return T


def _bounding_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    lo, hi = points.min(0), points.max(0)
    centre = 0.5 * (lo + hi)
    return centre, float(np.linalg.norm(points - centre, axis=1).max())


def _moving(cams) -> bool:
    return not bool(np.allclose(cams[0].world_to_cam, cams[-1].world_to_cam))


def _clip_cameras(rng, centre, radius, size, frames, facing: float, fill_range=FRAMINGS["default"]) -> list[Camera]:
    """A camera in front of the person looking at the hand and object; still or orbiting slowly."""
    fov = rng.uniform(45.0, 70.0)
    K = intrinsics_from_fov(fov, size, size, principal_jitter=rng.normal(0.0, 0.01 * size, 2))
    fill = rng.uniform(*fill_range)
    dist = radius * K[0, 0] / (0.5 * fill * size)
    az0 = facing + rng.uniform(-1.1, 1.1)
    el0 = rng.uniform(-10.0, 50.0)
    moving = rng.random() < 0.5
    d_az = rng.uniform(-0.3, 0.3) if moving else 0.0
    d_el = rng.uniform(-10.0, 10.0) if moving else 0.0
    cams = []
    for t in range(frames):
        a = t / max(frames - 1, 1) - 0.5
        az, el = az0 + d_az * a, np.deg2rad(el0 + d_el * a)
        eye = centre + dist * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        cams.append(Camera(K=K, world_to_cam=look_at(eye, centre), width=size, height=size))
    return cams
