"""The anny body fitted to a front-end person (and its hands): start, terms, two optimisation stages.

Start: the given parameters (the network's body, or the last video frame's fit), or else the rest
pose turned onto the detector's world landmarks (Kabsch on the torso) and placed at the depth where
the landmarks' image-plane extent matches the keypoints' (weak perspective). Stage 1 poses the body
on the world landmarks and 2D keypoints; stage 2 adds the person's silhouette and lets shape and
placement settle. Everything is in the camera optical frame (metres).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoi_perception.body.interface import BodyModel, BodyParams
from hoi_perception.body.joints import BODY_JOINTS, BODY_PARENTS, BODY_POSE_JOINTS, HAND_POSE_JOINTS
from hoi_perception.frontend.interface import HandDetection, PersonDetection
from hoi_perception.geometry import matrix_to_axis_angle, rigid_fit

from . import terms as T
from .placement import focal, point_at_depth, spread, swing_onto, weak_perspective_depth
from .skeleton_region import REACH, skeleton_region
from .solver import FitResult, fit

# detector keypoint name -> anny body keypoint (COCO-17 + feet regressed from the mesh)
BODY_KEYPOINTS = {
    "nose": "nose", "left_eye": "left_eye", "right_eye": "right_eye", "left_ear": "left_ear", "right_ear": "right_ear",
    "left_shoulder": "left_shoulder", "right_shoulder": "right_shoulder", "left_elbow": "left_elbow",
    "right_elbow": "right_elbow", "left_wrist": "left_wrist", "right_wrist": "right_wrist", "left_hip": "left_hip",
    "right_hip": "right_hip", "left_knee": "left_knee", "right_knee": "right_knee", "left_ankle": "left_ankle",
    "right_ankle": "right_ankle", "left_heel": "left_heel", "right_heel": "right_heel",
    "left_foot_index": "left_big_toe", "right_foot_index": "right_big_toe",
}
TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "nose")
# limbs posed from the detector's world landmarks at the start: canonical joint whose rotation swings
# the segment -> (canonical joint at the segment's far end, detector names of the segment's two ends)
LIMBS = {
    "left_hip": ("left_knee", "left_hip", "left_knee"), "right_hip": ("right_knee", "right_hip", "right_knee"),
    "left_knee": ("left_ankle", "left_knee", "left_ankle"), "right_knee": ("right_ankle", "right_knee", "right_ankle"),
    "left_shoulder": ("left_elbow", "left_shoulder", "left_elbow"),
    "right_shoulder": ("right_elbow", "right_shoulder", "right_elbow"),
    "left_elbow": ("left_wrist", "left_elbow", "left_wrist"), "right_elbow": ("right_wrist", "right_elbow", "right_wrist"),
}
HIPS = ("left_hip", "right_hip")
MIN_VISIBILITY = 0.2  # 2D keypoints the detector is less sure of than this are left out
MIN_WORLD_CONFIDENCE = 0.3  # weight of a hidden joint's world landmark


@dataclass
class BodyFitSettings:
    steps_pose: int = 40
    steps_full: int = 40
    lr: float = 0.04
    w_keypoints: float = 1.0
    w_world: float = 0.5
    w_silhouette: float = 30.0
    w_prior: float = 0.02
    w_shape: float = 0.01
    w_change: float = 0.001
    w_hands: float = 0.5
    sigma_2d: float = 0.05  # of the person's height
    sigma_world: float = 0.15  # metres
    reach: float = REACH  # mask pixels farther than this (x height) from the person's skeleton are not covered


@dataclass
class BodyEvidence:
    """What the body is fitted to, in one image: a person, the hands found on it, its mask."""

    person: PersonDetection
    hands: list[HandDetection]
    mask: np.ndarray | None  # person mask (bool), detector's or given
    allowed: np.ndarray | None = None  # may hide the person (e.g. the object's mask)


class BodyFitter:
    def __init__(self, model: BodyModel, prior, settings: BodyFitSettings | None = None,
                 silhouette_vertices: np.ndarray | None = None) -> None:
        if model.kind != "body":
            raise ValueError(f"BodyFitter needs a body model, got {model.kind}")
        self.model, self.prior = model, prior
        self.s = settings or BodyFitSettings()
        kp = {n: i for i, n in enumerate(model.keypoint_names)}
        self._kp_index = kp
        if silhouette_vertices is None:  # every 8th vertex: enough to cover the outline, 8x cheaper
            silhouette_vertices = np.arange(0, model.num_vertices, 8)
        self.sil_vertices = np.asarray(silhouette_vertices)
        names = list(model.pose_joint_names)
        self.body_joints = [names.index(n) for n in BODY_POSE_JOINTS]
        self.finger_joints = {side: [names.index(f"{side}_{n}") for n in HAND_POSE_JOINTS] for side in ("left", "right")}

    # -- evidence -> terms -----------------------------------------------------------------
    def _matches(self, person: PersonDetection) -> tuple[list[int], list[int]]:
        det, mod = [], []
        for name, model_name in BODY_KEYPOINTS.items():
            if name in person.keypoint_names and model_name in self._kp_index:
                det.append(person.index(name))
                mod.append(self._kp_index[model_name])
        if len(det) < 4:
            raise ValueError(f"the detector's keypoints ({len(person.keypoint_names)}) share fewer than 4 names "
                             "with the body model's")
        return det, mod

    def terms(self, ev: BodyEvidence) -> tuple[list[T.Term], list[T.Term]]:
        """Stage-1 and stage-2 terms for one image."""
        s, p = self.s, ev.person
        det, mod = self._matches(p)
        conf = np.where(p.visibility[det] >= MIN_VISIBILITY, p.visibility[det], 0.0)[None]
        mod_t = torch.as_tensor(mod)

        def kps(state):
            return state.output.keypoints[:, mod_t]

        height = max(p.height_px, 8.0)
        pose = [T.KeypointReprojection(kps, p.keypoints[det][None], conf, height, s.w_keypoints, s.sigma_2d),
                T.PosePriorTerm(self.prior, s.w_prior), T.PoseChange(None, s.w_change)]
        if p.world is not None:
            names = [p.keypoint_names[i] for i in det]
            centre = [names.index(n) for n in HIPS if n in names]
            if len(centre) == 2:
                # hidden joints still carry the detector's 3D guess (its learned pose prior): a floor, not 0
                world_conf = np.clip(p.visibility[det], MIN_WORLD_CONFIDENCE, 1.0)[None]
                pose.append(T.WorldLandmarks(kps, p.world[det][None], world_conf, centre, s.w_world, s.sigma_world))
        for hand in ev.hands:
            side = 0 if hand.side == "left" else 1
            pose.append(T.KeypointReprojection(
                lambda state, side=side: state.output.hand_joints[:, side], hand.keypoints[None],
                np.full((1, 21), hand.score), max(hand.size_px, 8.0), s.w_hands, 0.1, name=f"hand_{hand.side}_2d"))
        full = list(pose)
        if ev.mask is not None and ev.mask.any():
            cover = skeleton_region(p, ev.mask.shape, s.reach) if s.reach > 0 else None
            full.append(T.Silhouette(self.sil_vertices, ev.mask, height, ev.allowed, s.w_silhouette, cover=cover))
        return pose, full

    # -- start -------------------------------------------------------------------------------
    def start_from_landmarks(self, p: PersonDetection, camera: np.ndarray, shape=None) -> BodyParams:
        """The rest body turned onto the world landmarks' torso, its limbs swung onto theirs, placed at the
        weak-perspective depth; ``shape`` (e.g. the network's) replaces the mid shape."""
        model = self.model
        rest = model.rest_params(1, shape)
        with torch.no_grad():
            kp = model(rest, keypoints=True).keypoints[0].double().numpy()
        det, mod = self._matches(p)
        names = [p.keypoint_names[i] for i in det]
        torso = [names.index(n) for n in TORSO if n in names]
        rot = np.eye(3)
        if p.world is not None and len(torso) >= 3:
            rot, _ = rigid_fit(kp[np.asarray(mod)[torso]], p.world[np.asarray(det)[torso]])
        uv = p.keypoints[det]
        vis = p.visibility[det] >= MIN_VISIBILITY
        if p.world is not None and vis.sum() >= 3:
            z = weak_perspective_depth(camera, uv[vis], spread(p.world[det][vis][:, :2]))
        else:  # a standing adult is ~1.7 m tall
            z = focal(camera) * 1.7 / max(p.height_px, 1.0)
        hips = [names.index(n) for n in HIPS if n in names]
        centre = uv[hips].mean(0) if hips else uv.mean(0)
        pose = rest.pose if p.world is None else self._limbs_from_landmarks(p, rot, rest)
        return BodyParams(shape=rest.shape, pose=pose,
                          global_orient=torch.as_tensor(rot, dtype=torch.float32)[None],
                          transl=torch.as_tensor(point_at_depth(camera, centre, z), dtype=torch.float32)[None])

    def _limbs_from_landmarks(self, p: PersonDetection, root: np.ndarray, rest: BodyParams) -> torch.Tensor:
        """Local rotations that swing each limb segment of the rest body onto the world landmarks'
        direction (no twist), from the hips and shoulders down: a start near the detector's 3D pose,
        from which the robust terms converge where a rest-pose start would stall."""
        with torch.no_grad():
            joints = self.model(rest).joints[0].double().numpy()
        targets = {}
        for name, (child, near, far) in LIMBS.items():
            if near in p.keypoint_names and far in p.keypoint_names:
                targets[BODY_JOINTS.index(name)] = (BODY_JOINTS.index(child), p.world[p.index(far)] - p.world[p.index(near)])
        local = swing_onto(BODY_PARENTS, joints, root, targets)
        names = list(self.model.pose_joint_names)
        pose = rest.pose.clone()
        for j, rot in local.items():
            pose[0, names.index(BODY_JOINTS[j])] = matrix_to_axis_angle(torch.as_tensor(rot, dtype=torch.float64)).float()
        return pose

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, ev: BodyEvidence, camera: np.ndarray, start: BodyParams | None = None,
            steps_scale: float = 1.0) -> FitResult:
        """Fit to one image; ``start`` warm-starts (network body, last frame); ``steps_scale`` < 1 for
        a warm-started video frame."""
        s = self.s
        if start is None:
            start = self.start_from_landmarks(ev.person, camera)
        stage1, stage2 = self.terms(ev)
        moving = list(self.body_joints)
        for hand in ev.hands:
            moving += self.finger_joints[hand.side]
        n1, n2 = max(1, round(s.steps_pose * steps_scale)), max(1, round(s.steps_full * steps_scale))
        first = fit(self.model, start, stage1, camera, steps=n1, lr=s.lr, free=("orient", "pose", "transl"),
                    joints=moving, keypoints=True)
        ref = first.params.shape
        terms2 = stage2 + [T.ShapePrior(ref, 0.2, s.w_shape)]
        second = fit(self.model, first.params, terms2, camera, steps=n2, lr=s.lr * 0.5, joints=moving, keypoints=True)
        second.steps = n1 + n2
        second.history = first.history + second.history
        return second
