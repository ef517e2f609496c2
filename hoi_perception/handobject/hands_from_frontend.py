"""The hands of a hand-object result from the front end (`hoi_perception.frontend`), and the frame's
evidence that it shows a scene at all.

Every hand the front end detects is fitted with the anny hand of its detected side
(`hoi_perception.fitting.hand_fit`) and published as that side's hand: the fitted hand's 21 joints
and mesh in the camera frame, its pose parameters, model id ``anny_hand_<side>``. Its confidence is
the detection score lowered by the fit's 2D residual (the robust keypoint term: 0 on the landmarks,
1 far off them). In a stream, a side fitted less than ``max_age_ns`` ago starts from that fit with half
the steps.

The front end's hands and people are also the evidence that a frame shows a real scene: the
network's own masks are not (on uniform noise it predicts a visible object on a third of its mask,
more than on the real phone videos).
"""
from __future__ import annotations

import numpy as np
import torch

from hoi_perception.frontend.interface import Detections, HandDetection
from hoi_perception.geometry import matrix_to_axis_angle, quaternion_xyzw
from hoi_perception.pipeline.stages import ModelNotAvailable
from hoi_perception.pipeline.types import PART_LEFT_HAND, PART_RIGHT_HAND, BodyState, Pose

SIDES = ("left", "right")
PARTS = {"left": PART_LEFT_HAND, "right": PART_RIGHT_HAND}
NETWORK_HAND_ID = "hand21"  # the hand-object network's own hand (joints, and the anny hand fitted to them)
POSE_LAYOUT = "anny_hand15_axis_angle"  # the anny hand's 15 finger joints, axis-angle, in model order
WARM_STEPS = 0.5  # share of the fit's steps when it starts from the same side's previous fit


def fitted_hand_id(side: str) -> str:
    """The model id of a front-end hand fitted with the anny hand of ``side``."""
    return f"anny_hand_{side}"


def one_per_side(hands: list[HandDetection]) -> tuple[list[HandDetection], int]:
    """The best-scoring hand of each side, and how many were dropped: the front end looks for one
    person, who has one hand of each side; two hands given one side are a side error in one of them."""
    best: dict[str, HandDetection] = {}
    for h in hands:
        if h.side not in best or h.score > best[h.side].score:
            best[h.side] = h
    return [best[s] for s in SIDES if s in best], len(hands) - len(best)


class FrontEndHands:
    """The front end and the anny hand fitter of one stream."""

    def __init__(self, frontend: str = "mediapipe", mode: str = "video") -> None:
        from hoi_perception.body import load_body_model
        from hoi_perception.fitting.hand_fit import HandFitter
        from hoi_perception.frontend import FrontEndUnavailable
        from hoi_perception.frontend.factory import make_frontend

        try:
            # one person: a close-up phone camera rarely shows a whole one, and a body found still
            # gives the hands their sides from its wrists
            self.frontend = make_frontend(frontend, mode=mode, max_people=1, max_hands=2)
        except (FrontEndUnavailable, ValueError) as exc:
            raise ModelNotAvailable(f"the hand fit cannot run: {exc}; without it (hand_fit: false in the model "
                                    f"card, or the hand_fit option) the network's own hand is published") from exc
        self.fitter = HandFitter({s: load_body_model("anny", kind=f"hand_{s}") for s in SIDES})
        self.faces = {s: m.faces.numpy() for s, m in self.fitter.models.items()}
        self.previous: dict[str, tuple[int, object]] = {}  # side -> (stamp, params) of its last fit

    def detect(self, image: np.ndarray) -> Detections:
        return self.frontend.detect(image)

    def fit(self, hand: HandDetection, camera: np.ndarray, stamp_ns: int = 0,
            max_age_ns: int = 0) -> BodyState | None:
        """The detected hand as a published hand state (None when the fit is not finite); warm-started
        from the same side's fit of up to ``max_age_ns`` earlier."""
        prev = self.previous.get(hand.side) if self.frontend.mode == "video" else None  # photos: unrelated
        if prev is not None and 0 <= stamp_ns - prev[0] <= max_age_ns:
            res = self.fitter.fit(hand, camera, start=prev[1], steps_scale=WARM_STEPS)
        else:
            res = self.fitter.fit(hand, camera)
        if not (torch.isfinite(res.output.vertices).all() and torch.isfinite(res.output.joints).all()):
            self.previous.pop(hand.side, None)
            return None
        self.previous[hand.side] = (stamp_ns, res.params)
        residual = float(res.terms["keypoints_2d"][0])
        p = res.params
        pose = matrix_to_axis_angle(p.pose[0]).reshape(-1).numpy()
        state = BodyState(model_id=fitted_hand_id(hand.side), part=PARTS[hand.side], track_id=PARTS[hand.side],
                          joints=res.output.joints[0].numpy(), joint_set="hand21",
                          vertices=res.output.vertices[0].numpy(), shape_params=p.shape[0].numpy(),
                          pose_params=pose, pose_layout=POSE_LAYOUT,
                          root_pose=Pose(p.transl[0].numpy(), quaternion_xyzw(p.global_orient[0].numpy())),
                          confidence=float(np.clip(hand.score * (1.0 - residual), 0.0, 1.0)))
        return state

    def reset(self) -> None:
        self.frontend.reset()
        self.previous.clear()
