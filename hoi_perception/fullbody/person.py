"""The person side of the full-body pipeline on a plain camera: the front end finds the people and
their hands, one person is chosen, and the anny body is fitted to that person's keypoints and mask,
starting from the network's body (its shape) and the detector's 3D pose.

Which person: the one whose mask (or box) holds most of the object mask, grown by a tenth of the
person's height, so a hand on the object counts; the largest person when none touches it. The
body's track_id names the person; the choice and its reason are logged when they change.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from hoi_perception.fitting.body_fit import BodyEvidence, BodyFitter
from hoi_perception.fitting.solver import FitResult
from hoi_perception.frontend.interface import Detections, FrontEnd
from hoi_perception.geometry import matrix_to_rot6d
from hoi_perception.pipeline.types import InputError

MASK_LEVEL = 0.5  # the detector's person-mask probability taken as "person"


@dataclass
class ChosenPerson:
    detections: Detections
    index: int
    reason: str
    mask: np.ndarray  # bool (H, W)

    @property
    def person(self):
        return self.detections.people[self.index]

    @property
    def hands(self):
        return [h for h in self.detections.hands if h.person == self.index]


def _person_region(det: Detections, i: int) -> np.ndarray:
    mask = det.person_mask(i, MASK_LEVEL)
    if mask is not None and mask.any():
        return mask
    h, w = det.image_size
    region = np.zeros((h, w), bool)
    x0, y0, x1, y1 = det.people[i].box.astype(int)
    region[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1] = True
    return region


def choose_person(det: Detections, object_mask: np.ndarray | None) -> tuple[int, str]:
    """Index of the person the object belongs to (or the largest) and why."""
    regions = [_person_region(det, i) for i in range(len(det.people))]
    areas = [int(r.sum()) for r in regions]
    if len(det.people) == 1:
        return 0, "the only person found"
    if object_mask is not None and object_mask.any():
        touch = []
        for p, region in zip(det.people, regions):
            grow = max(3, int(0.1 * p.height_px)) | 1
            near = cv2.dilate(region.astype(np.uint8), np.ones((grow, grow), np.uint8)) > 0
            touch.append(int((near & object_mask).sum()))
        best = int(np.argmax(touch))
        if touch[best] > 0:
            return best, f"touches the object ({len(det.people)} people found)"
    best = int(np.argmax(areas))
    return best, f"the largest of {len(det.people)} people (none touches the object)"


WARM_STEPS = 0.5  # share of the fit's steps when it starts from the same person's previous fit
# Off by default: on the parkour videos (every 2nd frame) starting from the last fit with half the
# steps took 1.5 s instead of 2.9 s per frame but PA-MPJPE rose from 74 to 88 mm (kv01) and 87 to
# 112 mm (kv03): in fast motion the detector's 3D landmarks are a better start than the last pose.
WARM_MAX_AGE_NS = 500_000_000


class PersonFit:
    """Front end + body fitter for one stream. With ``max_age_ns`` > 0, in video mode, a person's fit
    starts from that person's (same track) fit of up to ``max_age_ns`` earlier, with half the steps
    (off by default: see WARM_MAX_AGE_NS); photos always start afresh."""

    def __init__(self, frontend: FrontEnd, fitter: BodyFitter, max_age_ns: int = 0) -> None:
        self.frontend, self.fitter = frontend, fitter
        self.max_age_ns = int(max_age_ns)
        self.previous: tuple[int, int, object] | None = None  # (stamp, track id, params) of the last fit

    def find(self, image: np.ndarray, object_mask: np.ndarray | None) -> ChosenPerson:
        det = self.frontend.detect(image)
        if not det.people:
            raise InputError("no person found by the front end: no full-body result")
        i, reason = choose_person(det, object_mask)
        return ChosenPerson(det, i, reason, _person_region(det, i))

    def fit(self, chosen: ChosenPerson, camera: np.ndarray, network: dict | None, person_mask: np.ndarray,
            object_mask: np.ndarray | None, stamp_ns: int | None = None) -> FitResult:
        """The body fitted to the chosen person. From afresh: the network's shape is the start and the
        shape prior's reference, the detector's world landmarks give the start pose. In a stream with
        warm starts on (``stamp_ns`` given, video mode): from the same person's recent fit."""
        ev = BodyEvidence(chosen.person, chosen.hands, person_mask, object_mask)
        track = chosen.person.track_id
        streaming = stamp_ns is not None and self.max_age_ns > 0 and self.frontend.mode == "video"
        prev = self.previous if streaming else None
        if prev is not None and prev[1] == track and 0 <= stamp_ns - prev[0] <= self.max_age_ns:
            res = self.fitter.fit(ev, camera, prev[2], steps_scale=WARM_STEPS)
        else:
            shape = None if network is None else torch.as_tensor(network["body_shape"], dtype=torch.float32)[None]
            res = self.fitter.fit(ev, camera, self.fitter.start_from_landmarks(chosen.person, camera, shape))
        finite = torch.isfinite(res.output.joints).all() and torch.isfinite(res.output.vertices).all()
        self.previous = (int(stamp_ns), track, res.params) if (stamp_ns is not None and finite) else None
        return res

    def reset(self) -> None:
        self.previous = None
        self.frontend.reset()


def fitted_outputs(fit: FitResult) -> dict:
    """The fit in the network's output names (6D rotations), so results are built one way."""
    p, o = fit.params, fit.output
    return {"body_shape": p.shape[0].numpy(), "body_pose": matrix_to_rot6d(p.pose[0]).numpy(),
            "body_global_orient": matrix_to_rot6d(p.global_orient[0]).numpy(), "body_transl": p.transl[0].numpy(),
            "joints": o.joints[0].numpy(), "hand_joints": o.hand_joints[0].numpy(),
            "body_vertices_full": o.vertices[0].numpy()}
