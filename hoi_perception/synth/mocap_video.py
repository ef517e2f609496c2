"""Synthetic videos with known 4D truth from motion capture, for benchmarking a video -> 4D solver.

A mocap clip (`hoi_imitation.loaders`: SkillMimic ball play, CMU BVH, ...) drives the anny body: its
parameters are fitted to the mocap joints with the fitting core (3D joint distance, a small pose prior
and pose change; one shape for the clip, found on a few frames, then every frame posed with it). The
fitted anny motion is the truth: bone lengths and joint placements differ between a mocap rig and anny,
so the mocap joints are only the target (their distance to anny's is reported, not removed). The ball (if any) follows
the clip's object pose. The scene stands in a textured room whose floor is at z = 0 under anny's
lowest foot vertex; a still or slowly moving camera films it.

Outputs in ``out_dir``: ``video.mp4`` (mp4v), ``truth.npz`` (no pickles; world frame z-up REP 103 with
the floor at z = 0, i.e. the mocap world moved up by ``ground_shift``; ``camera_from_world`` maps into the
optical frame x right, y down, z forward; anny parameters per frame with axis-angle rotations, its joints,
the ball's pose and the clip's contact flags), and, when the clip has an object, ``object_masks.npz``:
``object`` and ``person`` (T, H, ceil(W/8)) bit-packed along x (`unpack_masks`), ``shape`` (T, H, W).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from hoi_perception.body.joints import BODY_JOINTS, BODY_PARENTS, BODY_POSE_JOINTS
from hoi_perception.fitting import terms as T
from hoi_perception.fitting.pose_prior import body_frame, default_pose_prior

from .cameras import intrinsics_from_fov, look_at
from .engine import BODY_ID, FLOOR_ID, OBJECT_ID

WALL_ID = FLOOR_ID + 1
CAMERAS = ("still", "moving")
CAMERA_HEIGHT = 1.2  # m
CAMERA_DISTANCE = (4.0, 5.0)  # m from the person's mean position
PAN_DEG = 20.0  # a moving camera turns this much over the clip ...
TRAVEL_M = 0.5  # ... while it slides this far
ROOM_HALF = 10.0  # m: floor and walls around the person's mean position
WALL_HEIGHT = 9.0
TEMPLATE_TOLERANCE = 0.2  # an object-library sphere matches when its radius is within 20%
# Where a rig puts its root, spine and collar joints on the trunk is its own choice (SkillMimic's spine1 is
# 19 cm above the pelvis, anny's 7.5 cm; CMU's root is 10 cm above its hip joints, anny's at their height;
# CMU's collars sit on the spine): pulled onto them at full weight, anny would bend its trunk to reach
# points that mark different anatomy. They weigh this much of the other joints.
LOOSE_JOINTS = ("pelvis", "spine1", "spine2", "spine3", "left_collar", "right_collar")
LOOSE_WEIGHT = 0.2


# --- the clip ------------------------------------------------------------------------------------
def load_segment(clip_path: Path, fps: float, seconds: float | None, start_s: float):
    """The clip resampled to ``fps``, from ``start_s`` for ``seconds`` (all that is left when None or
    when the clip is shorter)."""
    from hoi_imitation.loaders import load_clip

    clip = load_clip(clip_path).resampled(fps)
    t = clip.timestamps - clip.timestamps[0]
    first = int(np.searchsorted(t, start_s - 0.5 / fps))
    last = clip.num_frames if seconds is None else min(clip.num_frames, first + round(seconds * fps))
    if last - first < 2:
        raise ValueError(f"{clip_path}: fewer than 2 frames from {start_s} s (clip lasts {clip.duration:.2f} s)")
    sel = slice(first, last)

    def cut(a):
        return None if a is None else np.asarray(a)[sel]

    return dataclasses.replace(clip, timestamps=clip.timestamps[sel], root_pos=cut(clip.root_pos),
                               joint_quat=cut(clip.joint_quat), joint_pos=cut(clip.joint_pos),
                               object_pos=cut(clip.object_pos), object_quat=cut(clip.object_quat),
                               contacts=cut(clip.contacts))


# --- fitting anny to the mocap joints -------------------------------------------------------------
class MocapJoints(T.Term):
    """Mean squared 3D distance between the model's joints and the mocap joints, in units of ``sigma``."""

    name = "mocap_joints"

    def __init__(self, target, joint_weights=None, weight: float = 1.0, sigma: float = 0.02) -> None:
        super().__init__(weight)
        self.target = torch.as_tensor(np.asarray(target), dtype=torch.float32)
        w = (torch.ones(self.target.shape[1]) if joint_weights is None
             else torch.as_tensor(np.asarray(joint_weights), dtype=torch.float32))
        self.w = w / w.sum()
        self.sigma = float(sigma)

    def __call__(self, state) -> torch.Tensor:
        d2 = ((state.output.joints - self.target) ** 2).sum(-1)
        return (d2 * self.w).sum(-1) / self.sigma ** 2


class SharedShape(T.Term):
    """One person: each frame's phenotype stays near the batch mean (squared, in units of ``sigma``)."""

    name = "shared_shape"

    def __init__(self, weight: float = 1.0, sigma: float = 0.01) -> None:
        super().__init__(weight)
        self.sigma = float(sigma)

    def __call__(self, state) -> torch.Tensor:
        s = state.params.shape
        return ((s - s.mean(0, keepdim=True)) ** 2).sum(-1) / self.sigma ** 2


@dataclasses.dataclass
class FitSettings:
    shape_frames: int = 8  # frames that decide the shared shape (stage 1); bone lengths are the same in all
    steps_shape: int = 80
    steps_pose: int = 60
    lr: float = 0.05
    transl_lr: float = 0.01
    w_prior: float = 0.01
    w_change: float = 0.01
    w_shared: float = 1.0


# limb segments swung onto the mocap's at the start: joint whose rotation swings it -> joint at its far end
SWING = {f"{side}_{a}": f"{side}_{b}" for side in ("left", "right")
         for a, b in (("hip", "knee"), ("knee", "ankle"), ("ankle", "foot"), ("shoulder", "elbow"), ("elbow", "wrist"))}
SWING["neck"] = "head"


def start_params(model, mocap_joints: np.ndarray, shape: torch.Tensor | None = None):
    """Rest pose turned so its hips-and-trunk frame matches each mocap frame's, its limbs swung onto the
    mocap's limb directions (no twist), the root at the mocap pelvis: from the bare rest pose the fit
    needs about twice the steps to converge."""
    from hoi_perception.body.interface import BodyParams
    from hoi_perception.fitting.placement import swing_onto

    b = len(mocap_joints)
    rest = model.rest_params(b, shape)
    with torch.no_grad():
        rest_joints = model(model.rest_params(1, None if shape is None else shape[:1])).joints[0]
    target = torch.as_tensor(mocap_joints, dtype=torch.float32)
    orient = body_frame(target) @ body_frame(rest_joints).T  # world_from_body
    index = {n: i for i, n in enumerate(BODY_JOINTS)}
    slots = [list(model.pose_joint_names).index(BODY_JOINTS[j]) for j in range(1, len(BODY_JOINTS))]
    pose = torch.eye(3).repeat(b, model.num_pose_joints, 1, 1)
    rest_np, mocap = rest_joints.double().numpy(), np.asarray(mocap_joints, np.float64)
    for k in range(b):
        targets = {index[j]: (index[c], mocap[k, index[c]] - mocap[k, index[j]]) for j, c in SWING.items()}
        local = swing_onto(BODY_PARENTS, rest_np, orient[k].double().numpy(), targets)
        pose[k, slots] = torch.as_tensor(np.stack([local[j] for j in range(1, len(BODY_JOINTS))]), dtype=torch.float32)
    return BodyParams(shape=rest.shape, pose=pose, global_orient=orient, transl=target[:, 0].clone())


def _fit_stage(model, start, target, weights, settings: FitSettings, steps: int, free, extra=()):
    from hoi_perception.fitting.solver import fit

    names = list(model.pose_joint_names)
    body_joints = [names.index(n) for n in BODY_POSE_JOINTS]  # fingers stay at rest: mocap has none
    terms = [MocapJoints(target, weights), T.PoseChange(body_joints, settings.w_change),
             T.PosePriorTerm(_pose_prior(), settings.w_prior), *extra]
    return fit(model, start, terms, np.eye(3), steps=steps, lr=settings.lr, free=free, joints=body_joints,
               transl_lr=settings.transl_lr, decay=True)


@functools.cache
def _pose_prior():
    return default_pose_prior()


def joint_weights(valid=None) -> np.ndarray:
    """(22,) weights of the mocap joints in the fit: LOOSE_WEIGHT on the rig-specific trunk joints, 0 on
    joints the source did not measure."""
    w = np.array([LOOSE_WEIGHT if n in LOOSE_JOINTS else 1.0 for n in BODY_JOINTS])
    return w if valid is None else w * np.asarray(valid, bool)


def fit_body(model, mocap_joints: np.ndarray, valid=None, settings: FitSettings | None = None):
    """anny fitted to (T, 22, 3) mocap joints: stage 1 finds one shape on a few frames (shared-shape
    term), stage 2 poses every frame with that shape held (its rest body is then built once, which
    makes the batched fit several times faster). Returns (params with axis-angle rotations, output,
    (T, 22) joint distances to the mocap in metres)."""
    from hoi_perception.body.interface import BodyParams
    from hoi_perception.geometry import matrix_to_axis_angle

    s = settings or FitSettings()
    weights = joint_weights(valid)
    n = len(mocap_joints)
    pick = np.unique(np.linspace(0, n - 1, min(s.shape_frames, n)).round().astype(int))
    first = _fit_stage(model, start_params(model, mocap_joints[pick]), mocap_joints[pick], weights, s,
                       s.steps_shape, ("orient", "pose", "transl", "shape"), [SharedShape(s.w_shared)])
    shape = first.params.shape.mean(0, keepdim=True)
    second = _fit_stage(model, start_params(model, mocap_joints, shape), mocap_joints, weights, s, s.steps_pose,
                        ("orient", "pose", "transl"))
    p = second.params
    params = BodyParams(shape=p.shape.float(), pose=matrix_to_axis_angle(p.pose.double()).float(),
                        global_orient=matrix_to_axis_angle(p.global_orient.double()).float(), transl=p.transl.float())
    with torch.no_grad():
        out = model(params)
    err = np.linalg.norm(out.joints.double().numpy() - mocap_joints, axis=-1)
    return params, out, err


# --- object ---------------------------------------------------------------------------------------
def object_radius(spec) -> float:
    if spec is None:
        return 0.0
    if spec.template.get("type") != "sphere":
        raise ValueError(f"object {spec.id!r}: only sphere templates are rendered, got {spec.template}")
    return float(spec.template["radius"])


@functools.cache
def library_sphere(radius: float) -> str:
    """The object library's sphere closest in radius, if within 20%, else "". Only ids naming a sphere
    are loaded (the library's procedural spheres, ``proc_sphere_*``; YCB has none): loading all ~80
    assets takes ~15 s."""
    from hoi_perception.assets import object_library

    lib = object_library()
    best, best_gap = "", TEMPLATE_TOLERANCE
    for oid in lib.ids("all"):
        if "sphere" not in oid:
            continue
        asset = lib.get(oid)
        if asset.symmetry != "spherical":
            continue
        gap = abs(0.5 * asset.diameter / radius - 1.0)
        if gap <= best_gap:
            best, best_gap = oid, gap
    return best


def ball_mesh(radius: float):
    """An icosphere with basketball colours: orange with three dark great-circle seams (so its spin shows)."""
    import trimesh

    from hoi_perception.render import Material

    m = trimesh.creation.icosphere(subdivisions=4, radius=radius)
    v = np.asarray(m.vertices)
    seam = (np.abs(v) < 0.06 * radius).any(axis=1)
    colors = np.where(seam[:, None], [0.08, 0.05, 0.04], [0.85, 0.36, 0.10]).astype(np.float32)
    return v.astype(np.float32), np.asarray(m.faces), Material((1, 1, 1, 1), 0.0, 0.7, vertex_colors=colors)


def object_poses(clip, shift: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    out = np.tile(np.eye(4), (clip.num_frames, 1, 1))
    out[:, :3, :3] = Rotation.from_quat(clip.object_quat).as_matrix()
    out[:, :3, 3] = clip.object_pos + shift
    return out


# --- cameras --------------------------------------------------------------------------------------
def cameras(centre: np.ndarray, n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """(n, 4, 4) camera_from_world: horizontal, at CAMERA_HEIGHT, 4-5 m from ``centre`` at a random
    azimuth. "moving": it slides TRAVEL_M sideways while panning PAN_DEG the other way (so the person
    sweeps less of the image than either alone would), looking at ``centre`` mid-clip."""
    if kind not in CAMERAS:
        raise ValueError(f"camera must be one of {CAMERAS}, got {kind!r}")
    az = rng.uniform(0.0, 2 * np.pi)
    dist = rng.uniform(*CAMERA_DISTANCE)
    target = np.array([centre[0], centre[1], CAMERA_HEIGHT])
    back = np.array([np.cos(az), np.sin(az), 0.0])
    eye0 = target + dist * back
    if kind == "still":
        return np.repeat(look_at(eye0, target)[None], n, axis=0)
    side = np.array([-back[1], back[0], 0.0])  # horizontal, perpendicular to the view
    sign = rng.choice([-1.0, 1.0])
    out = []
    for t in range(n):
        a = t / max(n - 1, 1) - 0.5
        eye = eye0 + sign * TRAVEL_M * a * side
        yaw = -sign * np.deg2rad(PAN_DEG) * a  # about z; turns the view away from the slide
        c, s = np.cos(yaw), np.sin(yaw)
        view = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]]) @ (target - eye0)
        out.append(look_at(eye, eye + view))
    return np.stack(out)


# --- scene ----------------------------------------------------------------------------------------
@functools.cache
def _region_labels() -> np.ndarray:
    """The engine's per-vertex clothing regions. Building them sets torch to one thread (the engine runs
    one worker per core); the fit here runs alone, so the caller's thread count is restored."""
    from . import engine

    threads = torch.get_num_threads()
    try:
        return engine.body_regions()[:, 0].copy()
    finally:
        torch.set_num_threads(threads)


def _quad(instance_id: int, corners: np.ndarray, texture: np.ndarray, reps: tuple[float, float], rng):
    """Two triangles facing the side from which ``corners`` run counter-clockwise, textured."""
    from hoi_perception.render import Material, RenderMesh

    uv = np.array([[0, 0], [reps[0], 0], [reps[0], reps[1]], [0, reps[1]]], np.float32)
    mat = Material(base_color=(1, 1, 1, 1), roughness=float(rng.uniform(0.5, 1.0)), texture=texture, uv=uv)
    return RenderMesh(instance_id, corners.astype(np.float32), np.array([[0, 1, 2], [0, 2, 3]]), mat)


def room(rng: np.random.Generator, centre: np.ndarray) -> list:
    """A textured floor at z = 0 and four walls facing inwards: a backdrop that moves with the world,
    so a moving camera sees parallax everywhere (a 2D background image would not)."""
    from hoi_perception.render import randomize as R

    cx, cy, h = float(centre[0]), float(centre[1]), ROOM_HALF
    tile = rng.uniform(0.8, 2.0)  # metres per floor texture repeat
    floor = np.array([[cx - h, cy - h, 0], [cx + h, cy - h, 0], [cx + h, cy + h, 0], [cx - h, cy + h, 0]])
    meshes = [_quad(FLOOR_ID, floor, R.texture_image(rng, 256), (2 * h / tile,) * 2, rng)]
    walls = R.random_background(rng, 256, 1024, kind="clutter")
    for k in range(4):
        a, b = floor[k], floor[(k + 1) % 4]  # counter-clockwise seen from above: the wall faces the centre
        quad = np.array([b, a, a + [0, 0, WALL_HEIGHT], b + [0, 0, WALL_HEIGHT]])
        # repeated along the wall: features a few dm wide at the camera's distance, for parallax
        meshes.append(_quad(WALL_ID + k, quad, walls[:, k * 256:(k + 1) * 256].copy(), (3.0, 1.5), rng))
    return meshes


def _lighting(rng: np.random.Generator, camera_from_world: np.ndarray):
    """A high key light (a sun or ceiling lamp) at a random azimuth, a fill light from the first camera's
    side and ambient light, fixed in the world. The engine's `random_lighting` is made for single views
    and often washes a large room out (point lights near the floor), so the video uses this milder set."""
    from hoi_perception.render import Light, Lighting

    a = rng.uniform(0.0, 2 * np.pi)
    key = np.array([0.6 * np.cos(a), 0.6 * np.sin(a), -1.0])  # the direction the light travels
    warm = np.array([1.0, rng.uniform(0.9, 1.0), rng.uniform(0.8, 0.95)])
    fill = np.linalg.inv(camera_from_world)[:3, 2] * [1, 1, 0] + [0, 0, -0.3]  # the camera's view, from slightly above
    lights = [Light("directional", tuple(warm), float(rng.uniform(2.0, 3.0)), tuple(key)),
              Light("directional", (1.0, 1.0, 1.0), float(rng.uniform(0.6, 1.2)), tuple(fill))]
    return Lighting(lights, tuple(np.full(3, rng.uniform(0.25, 0.4))))


# --- rendering ------------------------------------------------------------------------------------
def render_frames(video_path: Path, size: tuple[int, int], fps: float, K: np.ndarray, camera_from_world: np.ndarray,
                  body_vertices: np.ndarray, faces: np.ndarray, body_mat, ball, ball_poses, static: list, lighting):
    """Write the mp4 and return (person masks, object masks or None), (T, H, W) bool."""
    from hoi_perception.render import RenderMesh, SceneRenderer

    w, h = size
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cv2 cannot write mp4v video to {video_path}")
    person, obj = [], []
    sky = np.full((h, w, 3), 200, np.uint8)  # only seen through a gap, never expected
    try:
        with SceneRenderer(w, h, znear=0.05, zfar=60.0) as r:
            for t in range(len(camera_from_world)):
                meshes = [RenderMesh(BODY_ID, body_vertices[t], faces, body_mat), *static]
                if ball is not None:
                    meshes.append(RenderMesh(OBJECT_ID, ball[0], ball[1], ball[2], pose=ball_poses[t]))
                res = r.render(meshes, K, camera_from_world[t], lighting=lighting, background=sky, amodal_ids=[])
                writer.write(np.ascontiguousarray(res.rgb[..., ::-1]))
                person.append(res.instance == BODY_ID)
                obj.append(res.instance == OBJECT_ID)
    finally:
        writer.release()
    return np.stack(person), (np.stack(obj) if ball is not None else None)


def _pack(masks: np.ndarray) -> np.ndarray:
    return np.packbits(masks, axis=-1)


def unpack_masks(packed: np.ndarray, width: int) -> np.ndarray:
    """Inverse of the packing in ``object_masks.npz``: (T, H, ceil(W/8)) uint8 -> (T, H, W) bool."""
    return np.unpackbits(packed, axis=-1, count=int(width)).astype(bool)


# --- the whole job --------------------------------------------------------------------------------
def render_mocap_video(clip_path: Path, out_dir: Path, *, seconds: float | None = 4.0, start_s: float = 0.0,
                       fps: float = 25.0, size: tuple[int, int] = (640, 480), camera: str = "still",
                       seed: int = 0, hfov_deg: float = 60.0, fit: FitSettings | None = None) -> dict:
    """Render ``clip_path`` as a video with 4D truth into ``out_dir``; returns a summary (see module doc).
    ``fit``: the body fit's settings (fewer steps for quick previews and tests)."""
    from hoi_perception import assets
    from hoi_perception.render import randomize as R

    if camera not in CAMERAS:
        raise ValueError(f"camera must be one of {CAMERAS}, got {camera!r}")
    clip_path, out_dir = Path(clip_path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    w, h = int(size[0]), int(size[1])
    clip = load_segment(clip_path, fps, seconds, start_s)
    model = assets.body_model()
    t0 = time.perf_counter()
    params, out, dist = fit_body(model, clip.joint_pos, clip.joint_valid, fit)
    fit_s = time.perf_counter() - t0
    err = dist.mean(-1)
    core = dist[:, joint_weights() == 1.0].mean()
    print(f"mocap fit: {clip.num_frames} frames in {fit_s:.1f} s, mean joint distance {err.mean() * 100:.2f} cm "
          f"(worst frame {err.max() * 100:.2f} cm; {core * 100:.2f} cm without the rig-specific {', '.join(LOOSE_JOINTS)})",
          flush=True)

    regions = _region_labels()
    verts = out.vertices.numpy()
    shift = np.array([0.0, 0.0, -float(verts[:, regions == 3, 2].min())])  # lowest shoe vertex -> floor
    verts = (verts + shift).astype(np.float32)
    joints = out.joints.double().numpy() + shift
    centre = joints.reshape(-1, 3).mean(0)

    rng = np.random.default_rng(seed)
    K = intrinsics_from_fov(hfov_deg, w, h)
    cam = cameras(centre, clip.num_frames, camera, rng)
    body_mat = R.body_material(rng, len(regions), regions, skin_labels=(0,))
    static = room(rng, centre)
    lighting = _lighting(rng, cam[0])
    radius = object_radius(clip.object)
    ball = ball_mesh(radius) if clip.object is not None else None
    ball_poses = object_poses(clip, shift) if ball is not None else None

    t0 = time.perf_counter()
    person, obj = render_frames(out_dir / "video.mp4", (w, h), fps, K, cam, verts, model.faces.numpy(), body_mat,
                                ball, ball_poses, static, lighting)
    render_s = time.perf_counter() - t0
    template = library_sphere(radius) if ball is not None else ""
    _save_truth(out_dir / "truth.npz", clip, params, joints, shift, K, (w, h), cam, fps, ball_poses, radius,
                template, dist, clip_path, start_s, seed, camera)
    if obj is not None:
        np.savez_compressed(out_dir / "object_masks.npz", object=_pack(obj), person=_pack(person),
                            shape=np.array(obj.shape), object_template=np.array(template))
    return {"clip": str(clip_path), "out_dir": str(out_dir), "frames": clip.num_frames, "fps": float(fps),
            "size": [w, h], "camera": camera, "seed": int(seed), "mocap_joint_error_m": float(err.mean()),
            "mocap_joint_error_max_frame_m": float(err.max()), "mocap_joint_error_core_m": float(core), "fit_seconds": round(fit_s, 1),
            "render_seconds": round(render_s, 1), "ground_shift_z": float(shift[2]),
            "object": None if clip.object is None else clip.object.id, "object_radius": radius,
            "object_template": template, "person_pixels_mean": float(person.sum((1, 2)).mean()),
            "object_visible_frames": None if obj is None else int((obj.sum((1, 2)) > 0).sum())}


def _save_truth(path: Path, clip, params, joints, shift, K, size, cam, fps, ball_poses, radius, template, dist,
                clip_path, start_s, seed, camera) -> None:
    n = clip.num_frames
    has_obj = ball_poses is not None
    contacts = np.zeros((n, 0), np.float32) if clip.contacts is None else np.asarray(clip.contacts, np.float32)
    np.savez_compressed(
        path,
        fps=np.float64(fps), K=K.astype(np.float64), image_size=np.array(size, np.int64),
        timestamps=(clip.timestamps - clip.timestamps[0]).astype(np.float64),
        camera_from_world=cam.astype(np.float64),
        body_model=np.array("anny"), joint_names=np.array(BODY_JOINTS),
        body_shape=params.shape.numpy().astype(np.float32), body_pose=params.pose.numpy().astype(np.float32),
        body_global_orient=params.global_orient.numpy().astype(np.float32),
        body_transl=(params.transl.double().numpy() + shift).astype(np.float32),
        joints_world=joints.astype(np.float32),
        mocap_joints_world=(clip.joint_pos + shift).astype(np.float32),
        ground_shift=shift.astype(np.float64),
        object_template=np.array(template), object_radius=np.float64(radius),
        object_pose_world=(ball_poses if has_obj else np.tile(np.eye(4), (n, 1, 1))).astype(np.float64),
        object_valid=np.full(n, has_obj),
        contacts=contacts, contact_names=np.array(list(clip.contact_names), dtype=str),
        mocap_joint_error_m=np.float64(dist.mean()), mocap_joint_error_per_joint_m=dist.mean(0).astype(np.float32),
        source=np.array(str(clip_path)), start_s=np.float64(start_s), seed=np.int64(seed), camera=np.array(camera))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hoi_perception.synth.mocap_video", description=__doc__.splitlines()[0])
    ap.add_argument("clip", type=Path, help="mocap clip (.pt SkillMimic, .bvh, .npz, DeepMimic .txt)")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--seconds", type=float, default=4.0, help="length (<= 0: the whole clip)")
    ap.add_argument("--start", type=float, default=0.0, help="start time in the clip, s")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    ap.add_argument("--camera", choices=CAMERAS, default="still")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hfov", type=float, default=60.0, help="horizontal field of view, degrees")
    a = ap.parse_args(argv)
    summary = render_mocap_video(a.clip, a.out, seconds=a.seconds if a.seconds > 0 else None, start_s=a.start,
                                 fps=a.fps, size=tuple(a.size), camera=a.camera, seed=a.seed, hfov_deg=a.hfov)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
