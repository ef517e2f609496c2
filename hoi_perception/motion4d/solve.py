"""The temporal solve: a clip's body (and object) fitted to every frame's evidence at once, in the
fitting core, one segment (a run of frames with the person in shot) at a time.

Stage 1 poses the body on each frame's 2D keypoints and world landmarks, with the pose prior and
accelerations priced through the clip's frame rate. The ground plane and the foot contacts are
then read off the feet (`ground.py`). Stage 2 adds the person's silhouettes, one shape for the
clip, the feet on the ground without sliding, and, where the clip has an object: its per-frame
start (the network, refined on that frame's mask), smooth motion, one size, no body inside it, and
the annotated pairs (`annotations.py`: 3D pairs weighted far above image pairs), the "static"
flag and a fixed size. Everything is in the camera optical frame; `ground.world_from_camera`
gives the gravity-aligned world frame.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from hoi_perception.body.interface import BodyParams
from hoi_perception.body.joints import BODY_JOINTS
from hoi_perception.fitting import clip_terms as C
from hoi_perception.fitting import terms as T
from hoi_perception.fitting.body_fit import HIPS, MIN_VISIBILITY, MIN_WORLD_CONFIDENCE, BodyFitSettings, BodyFitter
from hoi_perception.fitting.object_pose import ObjectStart
from hoi_perception.fitting.skeleton_region import skeleton_region
from hoi_perception.fitting.solver import fit
from hoi_perception.frontend.interface import PersonDetection
from hoi_perception.geometry import matrix_to_axis_angle

from .evidence import ClipEvidence
from .ground import Ground, body_up, fit_ground, foot_contacts, world_from_camera

log = logging.getLogger("hoi_perception.motion4d")
FEET = ("left_heel", "right_heel", "left_big_toe", "right_big_toe")  # body-model keypoints
HANDS = ("left_wrist", "right_wrist")
OBJECT_POINTS = 128  # template points the object terms move
PAIR_WARNING_M = 0.05  # an annotated 3D pair left farther apart than this is reported


_IMAGE = BodyFitSettings()


@dataclass
class ClipSolveSettings:
    steps_pose: int = 60
    steps_full: int = 60
    # the per-image terms weigh as in the per-image fit (`BodyFitSettings`)
    lr: float = _IMAGE.lr
    w_keypoints: float = _IMAGE.w_keypoints
    w_world: float = _IMAGE.w_world
    w_prior: float = _IMAGE.w_prior
    w_change: float = _IMAGE.w_change
    w_silhouette: float = _IMAGE.w_silhouette
    w_shape: float = _IMAGE.w_shape
    sigma_2d: float = _IMAGE.sigma_2d  # of the person's height
    sigma_world: float = _IMAGE.sigma_world  # m
    # accelerations (m/s^2): each joint's about the root, robust (jitter costs; a vault's hands at ~50 m/s^2
    # pass at a bounded cost); the root's, squared, off by default: smoothing the depth the landmarks give
    # bent the limbs to meet the keypoints (ball-play renders: PA-MPJPE 125 mm with it, 113 without)
    sigma_root_accel: float = 10.0
    w_root_accel: float = 0.0
    # ... instead, after the solve, the root's path is smoothed on its own, the pose kept (`smooth_root`)
    sigma_depth: float = 0.05  # m: how far the landmarks' per-frame depth may be trusted
    sigma_lateral: float = 0.01  # m: across the view (a few pixels of keypoint noise)
    sigma_accel: float = 20.0
    w_accel: float = 0.1
    w_shared_shape: float = 0.01
    w_ground: float = 0.002  # with sigma 2 cm: a foot 2 cm off the floor costs 0.002
    # the object
    w_object_evidence: float = 0.05  # sigma 5 cm from the frame's network estimate
    w_object_accel: float = 0.02
    w_object_scale: float = 0.01
    w_static: float = 0.01
    w_pairs: float = 0.1  # sigma 1 cm
    w_image_pairs: float = 1.0  # over the image diagonal
    w_penetration: float = 0.002  # sigma 1 cm
    steps_resolve: int = 25  # a re-solve after annotations starts from the last solution: stage 2 only
    reach: float = _IMAGE.reach  # silhouette cover around the skeleton, x person height


@dataclass
class ClipSolution:
    """The solved clip over all T sampled frames; ``solved`` says which (frames in a segment)."""

    solved: np.ndarray  # (T,) bool
    segments: list[tuple[int, int]]
    shape: np.ndarray  # (T, S)
    pose: np.ndarray  # (T, P, 3) axis-angle
    global_orient: np.ndarray  # (T, 3) axis-angle, camera frame
    transl: np.ndarray  # (T, 3) camera frame
    joints: np.ndarray  # (T, J, 3) camera frame
    keypoints: np.ndarray  # (T, K, 3) body-model keypoints, camera frame
    ground_normal: np.ndarray  # (3,)
    ground_offset: float
    ground_source: str
    world_from_camera: np.ndarray  # (4, 4)
    foot_contact: np.ndarray  # (T, 4) bool, FEET order: still
    foot_ground: np.ndarray  # (T, 4) bool: still and on the ground
    object_id: str = ""
    object_pose: np.ndarray = field(default_factory=lambda: np.zeros((0, 4, 4)))  # (T, 4, 4) template -> camera
    object_valid: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (T,) posed by the solve
    # (T,) the frame had its own object evidence (a mask and the network's estimate); posed frames
    # without it were placed by their neighbours, the pairs and the body (an object out of view)
    object_seen: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    pair_residuals: dict = field(default_factory=dict)  # pair id -> mean distance (m) or pixels for image pairs
    terms: dict = field(default_factory=dict)  # term -> mean unweighted value at the end
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def save(self, path) -> None:
        from hoi_perception.atomic_files import atomic_write

        arrays = {k: getattr(self, k) for k in ("solved", "shape", "pose", "global_orient", "transl", "joints",
                                                "keypoints", "ground_normal", "world_from_camera", "foot_contact",
                                                "foot_ground", "object_pose", "object_valid", "object_seen")}
        arrays.update(segments=np.array(self.segments, np.int64).reshape(-1, 2), ground_offset=np.array(self.ground_offset),
                      ground_source=np.array(self.ground_source), object_id=np.array(self.object_id),
                      seconds=np.array(self.seconds), warnings=np.array(self.warnings, dtype=str),
                      pair_ids=np.array(list(self.pair_residuals), dtype=str),
                      pair_residuals=np.array(list(self.pair_residuals.values()), np.float64),
                      term_names=np.array(list(self.terms), dtype=str),
                      term_values=np.array(list(self.terms.values()), np.float64))

        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)

        atomic_write(path, write)

    @classmethod
    def load(cls, path) -> ClipSolution:
        with np.load(path, allow_pickle=False) as z:
            return cls(solved=z["solved"], segments=[tuple(int(v) for v in s) for s in z["segments"]], shape=z["shape"],
                       pose=z["pose"], global_orient=z["global_orient"], transl=z["transl"], joints=z["joints"],
                       keypoints=z["keypoints"], ground_normal=z["ground_normal"],
                       ground_offset=float(z["ground_offset"]), ground_source=str(z["ground_source"]),
                       world_from_camera=z["world_from_camera"], foot_contact=z["foot_contact"],
                       foot_ground=z["foot_ground"], object_id=str(z["object_id"]), object_pose=z["object_pose"],
                       object_valid=z["object_valid"], object_seen=z["object_seen"],
                       pair_residuals=dict(zip((str(s) for s in z["pair_ids"]), (float(v) for v in z["pair_residuals"]))),
                       terms=dict(zip((str(s) for s in z["term_names"]), (float(v) for v in z["term_values"]))),
                       seconds=float(z["seconds"]), warnings=[str(w) for w in z["warnings"]])

    def body_params(self, frames) -> BodyParams:
        """The body of ``frames`` (an index, a slice or a list; rotations as axis-angle), for the body model."""
        idx = [frames] if isinstance(frames, int) else frames
        f = torch.float32
        return BodyParams(shape=torch.as_tensor(self.shape[idx], dtype=f), pose=torch.as_tensor(self.pose[idx], dtype=f),
                          global_orient=torch.as_tensor(self.global_orient[idx], dtype=f),
                          transl=torch.as_tensor(self.transl[idx], dtype=f))


def _people(ev: ClipEvidence, a: int, b: int, scale: float = 1.0) -> list[PersonDetection]:
    out = []
    for t in range(a, b):
        world = ev.world[t] if np.isfinite(ev.world[t]).all() else None
        out.append(PersonDetection(keypoint_names=ev.keypoint_names, keypoints=ev.keypoints[t] * scale,
                                   visibility=ev.visibility[t], world=world, mask=None, box=ev.box[t] * scale, score=1.0))
    return out


def _whittaker(x: np.ndarray, lam: float) -> np.ndarray:
    """argmin_y |y - x|^2 + lam |D2 y|^2 for (T,) or (T, k) series (second differences D2)."""
    n = len(x)
    d2 = np.zeros((n - 2, n))
    for i in range(n - 2):
        d2[i, i:i + 3] = (1.0, -2.0, 1.0)
    return np.linalg.solve(np.eye(n) + lam * d2.T @ d2, x)


def smooth_root(transl: np.ndarray, fps: float, sigma_depth: float, sigma_lateral: float,
                sigma_accel: float) -> np.ndarray:
    """(T, 3) camera-frame root positions smoothed (a Whittaker smoother: residuals in units of how far
    each is trusted, against accelerations in units of ``sigma_accel`` m/s^2): the distance from the
    camera with ``sigma_depth`` (the landmarks' scale guess), the position across the view with
    ``sigma_lateral`` (keypoint noise)."""
    if len(transl) < 3:
        return transl.copy()
    dist = np.linalg.norm(transl, axis=1)
    ray = transl / np.maximum(dist, 1e-9)[:, None]
    d = _whittaker(dist, (sigma_depth * fps ** 2 / sigma_accel) ** 2)
    across = _whittaker(ray * dist[:, None], (sigma_lateral * fps ** 2 / sigma_accel) ** 2)
    across_ray = across / np.maximum(np.linalg.norm(across, axis=1), 1e-9)[:, None]
    return across_ray * d[:, None]


@functools.cache
def _template(object_id: str):
    from hoi_perception.assets import object_library
    from hoi_perception.objects.asset import farthest_point_sampling
    from hoi_perception.objects.fields import signed_distance_grid

    asset = object_library().get(object_id)
    pts = np.asarray(asset.surface_points, np.float64)
    pts = pts[farthest_point_sampling(pts, min(OBJECT_POINTS, len(pts)))]
    return pts, signed_distance_grid(asset.mesh, 40)


def _fill_object_starts(poses: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Frames without an object estimate take the nearest frame's that has one."""
    seen = np.nonzero(valid)[0]
    nearest = seen[np.abs(np.arange(len(valid))[:, None] - seen[None]).argmin(1)]
    return poses[nearest]


class ClipSolver:
    def __init__(self, model, prior, settings: ClipSolveSettings | None = None) -> None:
        self.model, self.prior = model, prior
        self.s = settings or ClipSolveSettings()
        self.fitter = BodyFitter(model, prior)
        kp = list(model.keypoint_names)
        self.feet = [kp.index(n) for n in FEET]

    def solve(self, ev: ClipEvidence, annotations: dict | None = None,
              previous: ClipSolution | None = None) -> ClipSolution:
        """The clip solved; with ``previous`` (this clip's last solution, e.g. before a person added
        pairs) the body, ground and object start where it ended and only stage 2 runs, for
        ``steps_resolve`` steps: the annotation loop's re-solve."""
        t0 = time.perf_counter()
        n = ev.num_frames
        segments = ev.segments()
        if not segments:
            raise ValueError(f"{ev.video}: no run of 3 or more frames with a person: nothing to solve")
        if previous is not None and (list(previous.segments) != segments or len(previous.solved) != n):
            previous = None  # another clip's (or older evidence's) solution: solve afresh
        model = self.model
        s_dim, p_dim = len(model.shape_labels), len(model.pose_joint_names)
        out = ClipSolution(solved=np.zeros(n, bool), segments=segments, shape=np.zeros((n, s_dim)),
                           pose=np.zeros((n, p_dim, 3)), global_orient=np.zeros((n, 3)), transl=np.zeros((n, 3)),
                           joints=np.zeros((n, len(BODY_JOINTS), 3)), keypoints=np.zeros((n, len(model.keypoint_names), 3)),
                           ground_normal=np.zeros(3), ground_offset=0.0, ground_source="", world_from_camera=np.eye(4),
                           foot_contact=np.zeros((n, len(FEET)), bool), foot_ground=np.zeros((n, len(FEET)), bool))
        if ev.object_id:
            out.object_id = ev.object_id
            out.object_pose = np.tile(np.eye(4), (n, 1, 1))
            out.object_valid = np.zeros(n, bool)
            out.object_seen = np.asarray(ev.object_valid, bool).copy()
        annotations = annotations or {"pairs": [], "object_static": False, "object_scale": None}
        terms_sum: dict[str, list[float]] = {}
        grounds = []
        for a, b in segments:
            seg = self._segment(ev, a, b, annotations, out, previous)
            grounds.append((b - a, seg))
            for k, v in seg["terms"].items():
                terms_sum.setdefault(k, []).extend(v)
        # the world frame from the longest segment's ground
        g: Ground = max(grounds, key=lambda x: x[0])[1]["ground"]
        out.ground_normal, out.ground_offset, out.ground_source = g.normal, g.offset, g.source
        first = segments[0][0]
        out.world_from_camera = world_from_camera(g, out.joints[first, 0])
        out.terms = {k: float(np.mean(v)) for k, v in terms_sum.items()}
        skipped = n - int(out.solved.sum())
        if skipped:
            out.warnings.append(f"{skipped} of {n} frames are outside every segment (no person, a cut, or a run "
                                "under 3 frames): not solved")
        for pid, r in out.pair_residuals.items():
            if r > PAIR_WARNING_M:
                out.warnings.append(f"pair {pid} stays {100 * r:.1f} cm apart after the solve: it contradicts the "
                                    "other evidence or annotations")
        out.seconds = time.perf_counter() - t0
        return out

    # -- one segment ---------------------------------------------------------------------------------
    def _segment(self, ev: ClipEvidence, a: int, b: int, annotations: dict, out: ClipSolution,
                 previous: ClipSolution | None = None) -> dict:
        s, k = self.s, ev.camera
        people = _people(ev, a, b)
        if previous is None:
            starts = [self.fitter.start_from_landmarks(p, k) for p in people]
            start = BodyParams(*(torch.cat(x) for x in zip(*((p.shape, p.pose, p.global_orient, p.transl)
                                                                for p in starts))))
        det, mod = self.fitter._matches(people[0])
        vis = ev.visibility[a:b][:, det]
        kp = ev.keypoints[a:b][:, det]
        ok = np.isfinite(kp).all(-1)
        conf = np.where((vis >= MIN_VISIBILITY) & ok, vis, 0.0)
        heights = np.maximum(ev.box[a:b, 3] - ev.box[a:b, 1], 8.0)
        mod_t = torch.as_tensor(mod)

        def kps(state):
            return state.output.keypoints[:, mod_t]

        def root(state):
            return state.output.joints[:, :1]

        def limbs(state):
            j = state.output.joints
            return j - j[:, :1]

        stage1 = [T.KeypointReprojection(kps, np.nan_to_num(kp), conf, heights, s.w_keypoints, s.sigma_2d),
                  T.PosePriorTerm(self.prior, s.w_prior), T.PoseChange(None, s.w_change),
                  C.Acceleration(limbs, ev.fps, s.sigma_accel, s.w_accel, robust=True)]
        if s.w_root_accel > 0:
            stage1.append(C.Acceleration(root, ev.fps, s.sigma_root_accel, s.w_root_accel, name="root_acceleration"))
        names = [ev.keypoint_names[i] for i in det]
        centre = [names.index(h) for h in HIPS if h in names]
        world = ev.world[a:b][:, det]
        has_world = np.isfinite(world).all((-1, -2))
        if len(centre) == 2 and has_world.any():
            wconf = np.clip(vis, MIN_WORLD_CONFIDENCE, 1.0) * has_world[:, None]
            stage1.append(T.WorldLandmarks(kps, np.nan_to_num(world), wconf, centre, s.w_world, s.sigma_world))
        moving = list(self.fitter.body_joints)
        if previous is None:
            first = fit(self.model, start, stage1, k, steps=s.steps_pose, lr=s.lr, free=("orient", "pose", "transl"),
                        joints=moving, keypoints=True)
            body_start, feet = first.params, first.output.keypoints[:, self.feet].double().numpy()
            j1 = first.output.joints.double().numpy()
            # ground and foot contacts from stage 1; camera y points down: pelvis -> neck is up (the clip's mean)
            up = body_up(j1[:, BODY_JOINTS.index("pelvis")], j1[:, BODY_JOINTS.index("neck")])
            ground = fit_ground(feet, ev.fps, up)
        else:
            body_start = previous.body_params(slice(a, b))
            feet = previous.keypoints[a:b, self.feet]
            ground = Ground(previous.ground_normal, previous.ground_offset, previous.ground_source)
        still, on_ground = foot_contacts(feet, ev.fps, ground)
        feet_idx = torch.as_tensor(self.feet)

        stage2 = list(stage1) + [C.SharedShape(0.02, s.w_shared_shape), T.ShapePrior(body_start.shape, 0.2, s.w_shape),
                                 C.GroundContact(lambda st: st.output.keypoints[:, feet_idx], ground.normal, ground.offset,
                                                 still, on_ground, ev.fps, 0.02, s.w_ground)]
        scale = ev.mask_scale
        masks = ev.masks[a:b]
        if masks.any():
            covers = np.stack([skeleton_region(p, masks.shape[1:], s.reach) for p in _people(ev, a, b, scale)])
            stage2.append(C.ClipSilhouette(self.fitter.sil_vertices, masks, scale, heights, covers, s.w_silhouette))
        obj_start, object_terms, pair_rows = self._object_terms(ev, a, b, annotations, previous)
        stage2 += object_terms
        free = ("orient", "pose", "transl", "shape") + (("object",) if obj_start is not None else ())
        steps = s.steps_full if previous is None else s.steps_resolve
        second = fit(self.model, body_start, stage2, k, steps=steps, lr=s.lr * 0.5, free=free, joints=moving,
                     keypoints=True, obj=obj_start, object_lr=s.lr * 0.25, object_depth=True,
                     decay=previous is not None)  # a short re-solve settles instead of wandering at full rate

        p = second.params
        sl = slice(a, b)
        transl = p.transl.double().numpy()
        shift = smooth_root(transl, ev.fps, s.sigma_depth, s.sigma_lateral, s.sigma_root_accel) - transl  # (B, 3)
        out.solved[sl] = True
        out.shape[sl] = p.shape.numpy()
        out.pose[sl] = matrix_to_axis_angle(p.pose.double()).numpy()
        out.global_orient[sl] = matrix_to_axis_angle(p.global_orient.double()).numpy()
        out.transl[sl] = transl + shift
        out.joints[sl] = second.output.joints.numpy() + shift[:, None]
        out.keypoints[sl] = second.output.keypoints.numpy() + shift[:, None]
        feet2 = out.keypoints[sl][:, self.feet]
        out.foot_contact[sl], out.foot_ground[sl] = foot_contacts(feet2, ev.fps, ground)
        if obj_start is not None:
            moves = second.object_transform  # (B, 4, 4) start -> solved
            out.object_pose[sl] = moves @ self._object_start_pose
            out.object_pose[sl, :3, 3] += shift  # the scene's depth moves as one: contacts stay
            out.object_valid[sl] = True
            self._pair_residuals(second, pair_rows, annotations, a, b, k, out)
        terms = {name: list(v) for name, v in second.terms.items()}
        return {"ground": ground, "terms": terms}

    # -- the object --------------------------------------------------------------------------------
    def _object_terms(self, ev: ClipEvidence, a: int, b: int, annotations: dict, previous: ClipSolution | None):
        s = self.s
        if not ev.object_id:
            return None, [], []
        valid = ev.object_valid[a:b]
        pairs = [p for p in annotations["pairs"] if p["frames"][1] >= a and p["frames"][0] < b]
        if not valid.any() and not pairs:
            return None, [], []
        pts, sdf = _template(ev.object_id)
        if valid.any():
            poses = _fill_object_starts(ev.object_pose[a:b], valid)
        else:  # only annotations place it: start at the hands' midpoint, the template's size
            poses = np.tile(np.eye(4), (b - a, 1, 1))
            mid = np.nanmean(ev.keypoints[a:b][:, [ev.keypoint_names.index(h) for h in HANDS]], 1)
            z = 2.5
            poses[:, :3, 3] = np.stack([(mid[:, 0] - ev.camera[0, 2]) / ev.camera[0, 0] * z,
                                        (mid[:, 1] - ev.camera[1, 2]) / ev.camera[1, 1] * z, np.full(b - a, z)], 1)
        evidence_pts = pts @ poses[:, :3, :3].transpose(0, 2, 1) + poses[:, None, :3, 3]  # the network's, per frame
        if previous is not None and len(previous.object_valid) and previous.object_valid[a:b].all():
            poses = previous.object_pose[a:b].copy()  # a re-solve starts where the last solve ended
        if annotations.get("object_scale"):  # a fixed size replaces the estimate's
            sc = np.cbrt(np.abs(np.linalg.det(poses[:, :3, :3])))[:, None, None]
            poses = poses.copy()
            poses[:, :3, :3] = poses[:, :3, :3] / sc * float(annotations["object_scale"])
        self._object_start_pose = poses
        pair_pts = np.array([p["object_point"] for p in pairs], np.float64).reshape(-1, 3)
        local = np.concatenate([pts, pair_pts])
        start_pts = local @ poses[:, :3, :3].transpose(0, 2, 1) + poses[:, None, :3, 3]
        obj = ObjectStart(start_pts)
        n_tpl = len(pts)
        tpl_rows = torch.arange(n_tpl)
        log_scale = np.log(np.cbrt(np.abs(np.linalg.det(poses[:, :3, :3]))))
        fixed = annotations.get("object_scale")
        terms = [C.Acceleration(lambda st: st.object_points[:, tpl_rows].float(), ev.fps, s.sigma_accel,
                                s.w_object_accel, name="object_acceleration"),
                 C.ObjectScale(log_scale, None if not fixed else float(np.log(fixed)), 0.02, s.w_object_scale),
                 C.ObjectPenetration(self.fitter.sil_vertices, sdf, poses, 0.01, s.w_penetration)]
        if valid.any():
            terms.append(C.ObjectEvidence(evidence_pts, valid, 0.05, s.w_object_evidence))
        if annotations.get("object_static"):
            terms.append(C.ObjectStatic(0.005, s.w_static))
        rows3, body3, act3, rows2, uv2, act2 = [], [], [], [], [], []
        for i, p in enumerate(pairs):
            act = np.zeros(b - a, np.float32)
            act[max(p["frames"][0] - a, 0):min(p["frames"][1] - a + 1, b - a)] = 1.0
            kind, value = next(iter(p["target"].items()))
            if kind == "image":
                rows2.append(n_tpl + i)
                uv2.append(np.tile(np.asarray(value, np.float32), (b - a, 1)))
                act2.append(act)
            else:
                rows3.append(n_tpl + i)
                body3.append((kind, value))
                act3.append(act)
        if rows3:
            joint_idx = [BODY_JOINTS.index(v) if kind == "joint" else -1 for kind, v in body3]
            vert_idx = [int(v) if kind == "vertex" else -1 for kind, v in body3]

            def body_points(st, joint_idx=joint_idx, vert_idx=vert_idx):
                cols = [st.output.joints[:, j] if j >= 0 else st.output.vertices[:, v] for j, v in zip(joint_idx, vert_idx)]
                return torch.stack(cols, 1)

            terms.append(C.ContactPairs(rows3, body_points, np.stack(act3, 1), 0.01, s.w_pairs))
        if rows2:
            diag = float(np.hypot(*ev.image_size))
            terms.append(C.ImagePairs(rows2, np.stack(uv2, 1), np.stack(act2, 1), diag, s.w_image_pairs))
        rows = {p["id"]: n_tpl + i for i, p in enumerate(pairs)}
        return obj, terms, rows

    def _pair_residuals(self, res, rows: dict, annotations: dict, a: int, b: int, camera, out: ClipSolution) -> None:
        """Per pair, the mean distance left over its frames (metres; pixels for image pairs)."""
        if not rows:
            return
        moved = res.object_transform  # start -> solved, per frame
        for p in annotations["pairs"]:
            if p["id"] not in rows:
                continue
            f0, f1 = max(p["frames"][0], a), min(p["frames"][1], b - 1)
            pose = moved[f0 - a:f1 - a + 1] @ self._object_start_pose[f0 - a:f1 - a + 1]
            x = pose[:, :3, :3] @ np.asarray(p["object_point"]) + pose[:, :3, 3]
            kind, value = next(iter(p["target"].items()))
            if kind == "image":
                uv = x @ np.asarray(camera).T
                uv = uv[:, :2] / uv[:, 2:]
                r = float(np.linalg.norm(uv - np.asarray(value), axis=1).mean())
            elif kind == "joint":
                r = float(np.linalg.norm(x - res.output.joints[f0 - a:f1 - a + 1, BODY_JOINTS.index(value)].numpy(),
                                         axis=1).mean())
            else:
                r = float(np.linalg.norm(x - res.output.vertices[f0 - a:f1 - a + 1, int(value)].numpy(), axis=1).mean())
            out.pair_residuals[p["id"]] = r

