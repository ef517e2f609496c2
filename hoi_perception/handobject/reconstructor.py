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
* no hand visible: the object is still published, `hands` is empty, logged; a visible hand carries its
  joints and the anny hand mesh fitted to them (`hand_mesh.py`);
* a clip longer than the buffer: the oldest keyframe drops out (rolling);
* an empty predicted shape: InferenceError with the reason (never an empty mesh).

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
    Mesh,
    ObjectState,
    Pose,
)

from .encoding import MAX_FRAMES
from .infer import (
    DEPTH_MODES,
    MIN_FRAMES,
    OBJECT_MIN_PIXELS,
    HandObjectModel,
    crop_square,
    crop_square_depth,
    refine_mode,
)

log = logging.getLogger("hoi_perception.handobject")
KEYFRAME_WINDOW_S = 2.0


def _pose(m: np.ndarray) -> Pose:
    return Pose(m[:3, 3], quaternion_xyzw(m[:3, :3]))


class HandObjectReconstructor(Reconstructor):
    task = "handobject"

    def __init__(self, model_dir: Path, card: dict, backend: str = "onnxruntime", keyframes: int | None = None,
                 refine: str | bool = "silhouette", threads: int = 1, depth_mode: str = "shared",
                 hand_mesh_iters: int = 10, flip_average: bool | None = None, device: str | None = None,
                 keyframe_window_s: float = KEYFRAME_WINDOW_S):
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
        self.messages: list[str] = []  # the latest reasons for no/partial results (also logged)
        self.last_clip = None

    @property
    def history(self) -> int:
        return self.keyframes

    def reset(self) -> None:
        self.buffer.clear()

    def _say(self, msg: str) -> None:
        self.messages.append(msg)
        del self.messages[:-100]
        log.warning(msg)

    def observe(self, frame: Frame) -> None:
        self._buffer(frame)

    def _buffer(self, frame: Frame) -> None:
        """Add a frame to the keyframe buffer, which restarts on a new camera, size or depth state and
        forgets keyframes older than the window."""
        key = (frame.image.shape[:2], frame.frame_id)
        if self.buffer and self.buffer[-1][0] != key:
            self._say(f"frame {frame.index}: size {frame.image.shape[1]}x{frame.image.shape[0]} / camera "
                      f"{frame.frame_id!r} differs from the keyframes; restarting the keyframe buffer")
            self.buffer.clear()
        img, k = crop_square(frame.image, frame.intrinsics)
        depth = crop_square_depth(frame.depth) if frame.depth is not None else None
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

    def reconstruct(self, frame: Frame) -> HandObjectResult | None:
        self._buffer(frame)
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
        hands, topologies = [], {}
        if clip.hand_visible[-1]:
            # the engine's clips hold the object with one hand; its side is not predicted (right by default)
            part = PART_RIGHT_HAND if self.hand_side == "right" else PART_LEFT_HAND
            mesh = {}
            if self.hand_fitter is not None:
                mesh = {"model_id": self.hand_model_id, "vertices": self.hand_fitter.fit(clip.hand_joints[-1]).vertices}
                topologies[self.hand_model_id] = self.hand_fitter.faces
            hands.append(BodyState(**{"model_id": "hand21", **mesh}, part=part, track_id=part,
                                   joints=clip.hand_joints[-1], joint_set="hand21", confidence=float(clip.confidence)))
        else:
            self._say(f"frame {frame.index}: no hand visible; publishing the object only")
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
    ('cpu', 'cuda'; the backend's own by default), keyframe_window_s (2 s)."""
    backend = options.get("backend") or card.get("backend", "onnxruntime")
    return HandObjectReconstructor(Path(model_dir), card, backend=backend, keyframes=options.get("keyframes"),
                                   refine=options.get("refine", card.get("refine", "silhouette")),
                                   threads=int(options.get("threads", 1)),
                                   depth_mode=str(options.get("depth_mode", card.get("depth_icp", "shared"))),
                                   hand_mesh_iters=int(options.get("hand_mesh_iters", card.get("hand_mesh_iters", 10))),
                                   flip_average=options.get("flip_average"), device=options.get("device"),
                                   keyframe_window_s=float(options.get("keyframe_window_s", KEYFRAME_WINDOW_S)))
