"""The live hand-object Reconstructor (registry entry point `hoi_perception.handobject.reconstructor:build`).

A rolling buffer keeps the newest `keyframes` frames (card field, 2-6) of the last
`keyframe_window_s` seconds (option, default 2 s: older keyframes are dropped, so a result never mixes
in a view of seconds ago). Frames there was no time to reconstruct enter it through `observe` (a
live node feeds it every frame it receives), so the keyframes are the newest frames, not the ones that
happened to be processed. Every frame that shows the object enters the buffer, the network reconstructs the object from the whole buffer and the result
carries the mesh (object frame = the oldest keyframe's camera orientation, centred on the object),
one pose per keyframe and the newest frame's hand joints. Bad input never crashes the stream:

* the first frame (one frame only): None, "buffer filling" logged;
* a frame of another size or camera than the buffer: the buffer restarts from it (logged);
* the object not visible (left the frame): the frame is not buffered, None, logged;
* no hand visible: the object is still published, `hands` is empty, logged;
* with ``hand_fit`` (card field or option): the front end (`hoi_perception.frontend`) looks at every
  reconstructed frame; each hand it finds is fitted with the anny hand of its detected side and
  published instead of the network's hand (`hands_from_frontend.py`, model id ``anny_hand_<side>``);
  where it finds none, the network's hand is published as below, with model id ``hand21``. A frame
  is reconstructed only while the front end has seen a hand or a person in the last
  `keyframe_window_s`: the network's own masks are no evidence (it finds an object in noise), so
  without a detection the frame is not buffered and InputError says why;
* with ``hand_fit`` and ``hand_crop`` (default on), each frame's network window follows the front
  end's hands (`hand_crop.py`) instead of the image's centre square;
* without ``hand_fit``, the network's hand carries its joints and the anny hand mesh fitted to them
  (`hand_mesh.py`), model id ``anny_hand_<card hand_side>``;
* a clip longer than the buffer: the oldest keyframe drops out (rolling);
* an empty predicted shape: InferenceError with the reason (never an empty mesh);
* with ``hand_fit``, an object whose silhouette lies on a detected face: InputError (`object_gate.py`:
  near skin the network finds objects that are not there).

With a depth image on the frames (RGB-D camera) every keyframe pose is fitted to the observed
object points by ICP (`HandObjectModel._fit_depth`; by default one translation correction shared by all keyframes).
"""
from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

import numpy as np

from hoi_perception.geometry import quaternion_xyzw
from hoi_perception.pipeline.stages import InferenceError, ModelNotAvailable, Reconstructor
from hoi_perception.pipeline.types import (
    PART_LEFT_HAND,
    PART_RIGHT_HAND,
    BodyState,
    Frame,
    HandObjectResult,
    InputError,
    Mesh,
    ObjectState,
    Pose,
)

from .encoding import MAX_FRAMES
from .hand_crop import HandCrop
from .infer import (
    DEPTH_MODES,
    MIN_FRAMES,
    OBJECT_MIN_PIXELS,
    HandObjectModel,
    crop_square,
    crop_square_depth,
    refine_mode,
)
from .object_gate import newest_object_on_face

log = logging.getLogger("hoi_perception.handobject")
KEYFRAME_WINDOW_S = 2.0


def _pose(m: np.ndarray) -> Pose:
    return Pose(m[:3, 3], quaternion_xyzw(m[:3, :3]))


class HandObjectReconstructor(Reconstructor):
    task = "handobject"

    def __init__(self, model_dir: Path, card: dict, backend: str = "onnxruntime", keyframes: int | None = None,
                 refine: str | bool = "silhouette", threads: int = 1, depth_mode: str = "shared",
                 hand_mesh_iters: int = 10, flip_average: bool | None = None, device: str | None = None,
                 keyframe_window_s: float = KEYFRAME_WINDOW_S, hand_fit: bool | None = None,
                 frontend: str = "mediapipe", frontend_mode: str = "video", hand_crop: bool | None = None):
        super().__init__(str(card["name"]), card)
        self.keyframes = int(keyframes or card.get("keyframes", 4))
        if not keyframe_window_s > 0:
            raise ModelNotAvailable(f"model {self.name!r}: keyframe_window_s must be positive, got {keyframe_window_s}")
        self.window_ns = int(keyframe_window_s * 1e9)
        if not MIN_FRAMES <= self.keyframes <= MAX_FRAMES:
            raise ModelNotAvailable(f"model {self.name!r}: keyframes must be {MIN_FRAMES}-{MAX_FRAMES}, got {self.keyframes}")
        self.model = HandObjectModel(model_dir, backend=backend, threads=threads, card=card, flip_average=flip_average,
                                      device=device)
        try:
            self.refine = refine_mode(refine)
        except ValueError as exc:
            raise ModelNotAvailable(f"model {self.name!r}: {exc}") from None
        if depth_mode not in DEPTH_MODES:
            raise ModelNotAvailable(f"model {self.name!r}: depth mode must be one of {', '.join(DEPTH_MODES)}, "
                                    f"got {depth_mode!r}")
        self.depth_mode = depth_mode  # ICP of each keyframe pose to the frame's depth, when it has one
        self.buffer: deque = deque(maxlen=self.keyframes)
        self.hand_side = str(card.get("hand_side", "right"))
        # the anny hand fitted to the newest frame's joints gives the hand mesh (0 iterations: joints only)
        self.hand_fitter = None
        if hand_mesh_iters > 0:
            from .hand_mesh import HandMeshFitter

            self.hand_fitter = HandMeshFitter(self.hand_side, iters=hand_mesh_iters)
        self.hand_model_id = f"anny_hand_{self.hand_side}"
        # the front end's hands, fitted with the anny hand of their side (older cards: the network's hand only)
        self.frontend_hands = None
        if bool(card.get("hand_fit", False)) if hand_fit is None else bool(hand_fit):
            from .hands_from_frontend import NETWORK_HAND_ID, FrontEndHands

            self.frontend_hands = FrontEndHands(frontend, frontend_mode)
            self.hand_model_id = NETWORK_HAND_ID  # says the source: the fitted hands are anny_hand_<side>
        # the network's window follows the front end's hands (`hand_crop.py`); else the centre square
        self.crop = None
        if self.frontend_hands is not None and (bool(card.get("hand_crop", True)) if hand_crop is None
                                                else bool(hand_crop)):
            self.crop = HandCrop()
        self._seen_key = None  # the camera and size the front end is tracking in
        self._evidence_ns: int | None = None  # stamp of the newest frame the front end saw a hand or a person in
        self.messages: list[str] = []  # the latest reasons for no/partial results (also logged)
        self.last_clip = None  # the newest network result and front-end detections, for benchmarks to inspect
        self.last_detections = None

    @property
    def history(self) -> int:
        return self.keyframes

    def reset(self) -> None:
        self.buffer.clear()
        self._seen_key = self._evidence_ns = None
        self.last_clip = self.last_detections = None
        if self.frontend_hands is not None:
            self.frontend_hands.reset()
        if self.crop is not None:
            self.crop.reset()

    def _say(self, msg: str) -> None:
        self.messages.append(msg)
        del self.messages[:-100]
        log.warning(msg)

    def observe(self, frame: Frame) -> None:
        self._buffer(frame, None if self.crop is None else self.crop.current(frame.image.shape))

    def _buffer(self, frame: Frame, window=None) -> None:
        """Add a frame, cropped to ``window`` (the centre square by default), to the keyframe buffer,
        which restarts on a new camera, size or depth state and forgets keyframes older than the window."""
        key = (frame.image.shape[:2], frame.frame_id)
        if self.buffer and self.buffer[-1][0] != key:
            self._say(f"frame {frame.index}: size {frame.image.shape[1]}x{frame.image.shape[0]} / camera "
                      f"{frame.frame_id!r} differs from the keyframes; restarting the keyframe buffer")
            self.buffer.clear()
        img, k = crop_square(frame.image, frame.intrinsics, window=window)
        depth = crop_square_depth(frame.depth, window=window) if frame.depth is not None else None
        if self.buffer and (depth is None) != (self.buffer[-1][4] is None):
            self._say(f"frame {frame.index}: depth {'appeared' if depth is not None else 'vanished'}; restarting the "
                      f"keyframe buffer")
            self.buffer.clear()
        if self.buffer and frame.stamp_ns < self.buffer[-1][1].stamp_ns:
            self._say(f"frame {frame.index}: its stamp is older than the newest keyframe's (a replay or a clock "
                      f"reset); restarting the keyframe buffer")
            self.buffer.clear()
        while self.buffer and frame.stamp_ns - self.buffer[0][1].stamp_ns > self.window_ns:
            self.buffer.popleft()
        self.buffer.append((key, frame, img, k, depth))

    def _look(self, frame: Frame):
        """The front end's detections in a frame before it is buffered (None without ``hand_fit``).
        Raises InputError when it has seen no hand and no person within the keyframe window."""
        if self.frontend_hands is None:
            return None
        key = (frame.image.shape[:2], frame.frame_id)
        if key != self._seen_key:  # another camera or size: nothing to track across, no evidence yet
            self.frontend_hands.reset()
            if self.crop is not None:
                self.crop.reset()
            self._seen_key, self._evidence_ns = key, None
        det = self.last_detections = self.frontend_hands.detect(frame.image)
        if det.hands or det.people:
            self._evidence_ns = frame.stamp_ns
        # a detection stays evidence for as long as its frame may stay a keyframe (a tracker misses frames)
        if self._evidence_ns is None or not 0 <= frame.stamp_ns - self._evidence_ns <= self.window_ns:
            raise InputError(f"frame {frame.index}: the front end found no hand and no person in the last "
                             f"{self.window_ns / 1e9:.1f} s: no hand-object result (the network's object mask alone "
                             f"is no evidence: it finds objects in noise)")
        return det

    def _fitted_hands(self, frame: Frame, det) -> tuple[list[BodyState], dict]:
        """Each detected hand fitted with the anny hand of its side, one per side."""
        from .hands_from_frontend import one_per_side

        chosen, dropped = one_per_side(det.hands)
        if dropped:
            self._say(f"frame {frame.index}: the front end gave {len(det.hands)} hands for one side; publishing "
                      f"the best-scoring one")
        hands, topologies = [], {}
        for hand in chosen:
            state = self.frontend_hands.fit(hand, frame.intrinsics.matrix, frame.stamp_ns, self.window_ns)
            if state is None:
                self._say(f"frame {frame.index}: the fit of the {hand.side} hand is not finite; not published")
                continue
            hands.append(state)
            topologies[state.model_id] = self.frontend_hands.faces[hand.side]
        return hands, topologies

    def _network_hand(self, frame: Frame, clip) -> tuple[list[BodyState], dict]:
        """The network's hand of the newest frame (its side is the card's: the engine's clips hold the
        object with one hand and the side is not predicted), with the anny hand mesh fitted to its joints."""
        if not clip.hand_visible[-1]:
            self._say(f"frame {frame.index}: no hand visible; publishing the object only")
            return [], {}
        if self.frontend_hands is not None:
            self._say(f"frame {frame.index}: the front end found no hand; publishing the network's hand "
                      f"({self.hand_model_id})")
        part = PART_RIGHT_HAND if self.hand_side == "right" else PART_LEFT_HAND
        mesh, topologies = {}, {}
        if self.hand_fitter is not None:
            mesh = {"model_id": self.hand_model_id, "vertices": self.hand_fitter.fit(clip.hand_joints[-1]).vertices}
            topologies[self.hand_model_id] = self.hand_fitter.faces
        return [BodyState(**{"model_id": "hand21", **mesh}, part=part, track_id=part, joints=clip.hand_joints[-1],
                          joint_set="hand21", confidence=float(clip.confidence))], topologies

    def reconstruct(self, frame: Frame) -> HandObjectResult | None:
        det = self._look(frame)
        window = None
        if self.crop is not None:
            window = self.crop.update([h.keypoints for h in det.hands], frame.image.shape)
        self._buffer(frame, window)
        if len(self.buffer) < MIN_FRAMES:
            self._say(f"frame {frame.index}: keyframe buffer filling ({len(self.buffer)}/{MIN_FRAMES} frames needed)")
            return None
        frames = [b[1] for b in self.buffer]
        images = np.stack([b[2] for b in self.buffer])
        kmats = np.stack([b[3] for b in self.buffer])
        depths = np.stack([b[4] for b in self.buffer]) if self.buffer[-1][4] is not None else None
        clip = self.model.reconstruct(images, kmats, refine=self.refine, depths=depths, depth_mode=self.depth_mode)
        visible = (clip.masks[-1, 1] > 0.5).sum()
        if visible < OBJECT_MIN_PIXELS:
            self.buffer.pop()
            self._say(f"frame {frame.index}: no object visible ({int(visible)} mask pixels), it may have left the "
                      f"frame; no pose published")
            return None
        for m in clip.messages:
            self._say(f"frame {frame.index}: {m}")
        self.last_clip = clip
        if det is not None and det.people:
            _, reason = newest_object_on_face(clip, det.people, frame.intrinsics.matrix, frame.image.shape[:2])
            if reason:
                raise InputError(f"frame {frame.index}: {reason}; no hand-object result")
        if det is not None and det.hands:
            hands, topologies = self._fitted_hands(frame, det)
        else:
            hands, topologies = self._network_hand(frame, clip)
        poses = [_pose(p) for p in clip.poses]
        obj = ObjectState(pose=poses[-1], instance_id=1, class_name="handheld_object",
                          mesh=Mesh(clip.vertices, clip.faces.astype(np.uint32), mesh_id=f"handobject_{frame.index}"),
                          confidence=clip.confidence)
        if not np.isfinite(clip.vertices).all() or len(clip.faces) == 0:
            raise InferenceError(f"frame {frame.index}: the reconstructed mesh is empty or not finite")
        return HandObjectResult(stamp_ns=frame.stamp_ns, frame_id=frame.frame_id, frame_index=frame.index,
                                reconstructor=self.name, object=obj, keyframe_stamps_ns=[f.stamp_ns for f in frames],
                                keyframe_object_poses=poses, hands=hands, confidence=clip.confidence,
                                topologies=topologies)


def build(model_dir: Path, card: dict, **options) -> Reconstructor:
    """Registry entry point. Options: backend ('onnxruntime' default, 'torch', 'tensorrt'), keyframes,
    refine, threads, depth_mode ('shared' default, 'translation', 'rigid'), hand_mesh_iters (10; 0 = no hand
    mesh), flip_average (the card's by default; false: one network pass per frame, `flip.py`), device
    ('cpu', 'cuda'; the backend's own by default), keyframe_window_s (2 s), hand_fit (the card's by default:
    the front end's hands fitted with the anny hand, and its detections as the frames' evidence), frontend
    ('mediapipe'), frontend_mode ('video' default, 'image'), hand_crop (with hand_fit: the network's window
    follows the detected hands; the card's, else on)."""
    backend = options.get("backend") or card.get("backend", "onnxruntime")
    return HandObjectReconstructor(Path(model_dir), card, backend=backend, keyframes=options.get("keyframes"),
                                   refine=options.get("refine", card.get("refine", "silhouette")),
                                   threads=int(options.get("threads", 1)),
                                   depth_mode=str(options.get("depth_mode", card.get("depth_icp", "shared"))),
                                   hand_mesh_iters=int(options.get("hand_mesh_iters", card.get("hand_mesh_iters", 10))),
                                   flip_average=options.get("flip_average"), device=options.get("device"),
                                   keyframe_window_s=float(options.get("keyframe_window_s", KEYFRAME_WINDOW_S)),
                                   hand_fit=options.get("hand_fit"), frontend=str(options.get("frontend", "mediapipe")),
                                   frontend_mode=str(options.get("frontend_mode", "video")),
                                   hand_crop=options.get("hand_crop"))
