"""The default front end: mediapipe 0.10.14's pose and hand solutions, whose models ship in its wheel.

Pose: 33 landmarks (BlazePose "full"), world landmarks about the hips, a person mask. It finds one
person per call; further people are found by hiding the ones already found (filled with the image's
mean colour) and asking again in photo mode, up to ``max_people``. Hands: 21 landmarks each. The hand
model labels sides as if the image were a mirrored selfie; a camera image is not, so its label is
swapped, and where a person is found a hand takes the side of the nearer wrist of that person.
"""
from __future__ import annotations

import os
import time
import warnings
from dataclasses import replace

import numpy as np

from .hand_sides import HandSides
from .interface import (Detections, FrontEnd, FrontEndUnavailable, HandDetection, PersonDetection, box_iou, box_of,
                        match_boxes)

# BlazePose order; the names the fitting core matches (odd indices = the person's left).
POSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
WRISTS = {"left": POSE_NAMES.index("left_wrist"), "right": POSE_NAMES.index("right_wrist")}
MASK_HIDE = 0.3  # person-mask level above which a found person is hidden before looking for the next
MAX_TRACK_GAP = 0.3  # box IoU below which a person is a new track
# protobuf 4 flags mediapipe's own use of a deprecated call on every frame
warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)


def _import_mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")  # the graph's start-up chatter
    try:
        import mediapipe as mp
        from mediapipe.python.solutions import hands, pose
    except ImportError as exc:
        raise FrontEndUnavailable(
            f"the mediapipe front end needs mediapipe==0.10.14 ({exc}); install it with "
            "'bash scripts/setup.sh' (it pins the version whose wheel bundles the models)") from exc
    version = getattr(mp, "__version__", "?")
    if version != "0.10.14":
        raise FrontEndUnavailable(f"mediapipe {version} is installed; the front end needs 0.10.14, the last "
                                  "release whose wheel bundles its models (later ones download them at run time)")
    return pose, hands


class MediaPipeFrontEnd(FrontEnd):
    name = "mediapipe"
    person_keypoint_names = POSE_NAMES

    def __init__(self, mode: str = "video", max_people: int = 2, max_hands: int = 2, min_confidence: float = 0.5,
                 person_mask: bool = True) -> None:
        super().__init__(mode)
        pose, hands = _import_mediapipe()
        if max_people < 1 or max_hands < 0:
            raise ValueError(f"max_people must be >= 1 and max_hands >= 0, got {max_people}, {max_hands}")
        self.max_people, self.max_hands = int(max_people), int(max_hands)
        # People are detected afresh in every frame, in both modes: the same image gives the same people
        # whatever came before (mediapipe's pose tracking carries a region and a landmark filter from frame
        # to frame, and a body fitted on its landmarks moved by up to 16 cm on a repeated frame); video
        # mode keeps their track ids by box overlap (below). Hands are tracked in video mode: on the phone
        # videos tracking found a hand in 95 of 120 sampled frames, detecting afresh in 84.
        common = {"model_complexity": 1, "min_detection_confidence": min_confidence}
        try:
            self._pose = pose.Pose(static_image_mode=True, enable_segmentation=person_mask, **common)
            self._pose_more = (pose.Pose(static_image_mode=True, enable_segmentation=person_mask, **common)
                               if max_people > 1 else None)
            self._hands = (hands.Hands(static_image_mode=mode == "image", max_num_hands=max_hands,
                                       min_tracking_confidence=min_confidence, **common) if max_hands else None)
        except (RuntimeError, ValueError, OSError) as exc:
            raise FrontEndUnavailable(f"mediapipe's bundled models failed to load: {exc}") from exc
        self._tracks: list[tuple[int, np.ndarray]] = []
        self._next_track = 0
        self._hand_sides = HandSides()  # video mode: a hand keeps its side along the stream

    # -- people ---------------------------------------------------------------------------
    def _person(self, result, size: tuple[int, int]) -> PersonDetection | None:
        if result.pose_landmarks is None:
            return None
        h, w = size
        lm = result.pose_landmarks.landmark
        kp = np.array([[p.x * w, p.y * h] for p in lm])
        vis = np.clip(np.array([p.visibility for p in lm]), 0.0, 1.0)
        world = None
        if result.pose_world_landmarks is not None:
            world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark])
        mask = None if result.segmentation_mask is None else np.asarray(result.segmentation_mask, np.float32)
        if not (np.all(np.isfinite(kp)) and (world is None or np.all(np.isfinite(world)))):
            return None
        box = box_of(kp, vis, 0.1, size)
        if mask is not None and np.any(mask >= 0.5):
            ys, xs = np.nonzero(mask >= 0.5)
            box = np.array([xs.min(), ys.min(), xs.max(), ys.max()], np.float64)
        return PersonDetection(POSE_NAMES, kp, vis, world, mask, box, score=float(np.mean(vis[[11, 12, 23, 24]])))

    def _people(self, image: np.ndarray) -> list[PersonDetection]:
        size = image.shape[:2]
        found = []
        first = self._person(self._pose.process(image), size)
        if first is None:
            self._tracks = []  # everyone left: whoever comes next is a new track
            return found
        found.append(first)
        work = image
        while self._pose_more is not None and len(found) < self.max_people:
            hide = np.zeros(size, bool)
            for p in found:
                if p.mask is not None:
                    hide |= p.mask >= MASK_HIDE
                else:
                    x0, y0, x1, y1 = p.box.astype(int)
                    hide[y0:y1 + 1, x0:x1 + 1] = True
            work = work.copy()
            work[hide] = image.reshape(-1, 3).mean(0).astype(np.uint8)
            more = self._person(self._pose_more.process(work), size)
            if more is None or any(box_iou(more.box, p.box) > 0.5 for p in found):
                break
            found.append(more)
        return self._assign_tracks(found)

    def _assign_tracks(self, people: list[PersonDetection]) -> list[PersonDetection]:
        """Track ids by box overlap with the previous frame's people (photo mode: numbered afresh)."""
        if self.mode == "image":
            return [replace(p, track_id=i) for i, p in enumerate(people)]
        out = []
        matches = match_boxes([box for _, box in self._tracks], [p.box for p in people], MAX_TRACK_GAP)
        for p, match in zip(people, matches):
            if match is not None:
                tid = self._tracks[match][0]
            else:
                tid, self._next_track = self._next_track, self._next_track + 1
            out.append(replace(p, track_id=tid))
        self._tracks = [(p.track_id, p.box) for p in out]
        return out

    # -- hands ----------------------------------------------------------------------------
    def _hands_in(self, image: np.ndarray, people: list[PersonDetection]) -> list[HandDetection]:
        result = self._hands.process(image)
        if not result.multi_hand_landmarks:
            return []
        h, w = image.shape[:2]
        worlds = result.multi_hand_world_landmarks or [None] * len(result.multi_hand_landmarks)
        out = []
        for lm, world, label in zip(result.multi_hand_landmarks, worlds, result.multi_handedness):
            kp = np.array([[p.x * w, p.y * h] for p in lm.landmark])
            wl = None if world is None else np.array([[p.x, p.y, p.z] for p in world.landmark])
            if not np.all(np.isfinite(kp)):
                continue
            cls = label.classification[0]
            side = "right" if cls.label == "Left" else "left"  # mirrored-selfie label -> the person's side
            out.append(HandDetection(kp, wl, side, float(cls.score), box_of(kp, None, 0.15, (h, w))))
        out = self._sides_from_people(out, people)
        return out if self.mode == "image" else self._hand_sides(out)

    @staticmethod
    def _sides_from_people(hands: list[HandDetection], people: list[PersonDetection]) -> list[HandDetection]:
        """A hand near a person's wrist takes that wrist's side (each wrist at most once)."""
        pairs = []
        for i, hand in enumerate(hands):
            for j, person in enumerate(people):
                for side, k in WRISTS.items():
                    gap = float(np.linalg.norm(person.keypoints[k] - hand.keypoints[0]))
                    if gap < max(hand.size_px, 1.0):
                        pairs.append((gap, i, j, side))
        used_hand, used_wrist, out = set(), set(), list(hands)
        for gap, i, j, side in sorted(pairs):
            if i in used_hand or (j, side) in used_wrist:
                continue
            used_hand.add(i)
            used_wrist.add((j, side))
            out[i] = replace(hands[i], side=side, side_from="body", person=j)
        return out

    # -- the interface ----------------------------------------------------------------------
    def detect(self, image_rgb: np.ndarray, people: bool = True, hands: bool = True) -> Detections:
        image = np.ascontiguousarray(image_rgb)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"the front end needs an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
        det = Detections(image_size=image.shape[:2])
        if people:
            t = time.perf_counter()
            det.people = self._people(image)
            det.seconds["people"] = time.perf_counter() - t
        if hands and self._hands is not None:
            t = time.perf_counter()
            det.hands = self._hands_in(image, det.people)
            det.seconds["hands"] = time.perf_counter() - t
        return det

    def reset(self) -> None:
        self._tracks, self._next_track = [], 0
        self._hand_sides.reset()
        for solution in (self._pose, self._hands):
            if solution is not None:
                solution.reset()

    def close(self) -> None:
        for solution in (self._pose, self._pose_more, self._hands):
            if solution is not None:
                solution.close()
