"""Accumulate full-body results into 4D motion clips and write them atomically.

Clip file format (`<clip_id>.npz`, numpy archive without pickled objects), read by
`read_clip` here and by hoi_imitation's loader:

    format               "hoi_motion_clip/1"
    clip_id, frame_id    str
    fps                  float64 scalar
    stamps_ns            (T,) int64
    body_model_id, joint_set, pose_layout   str
    body_shape (T, S), body_pose (T, P), body_root (T, 7) [t, q_xyzw], joints (T, J, 3) float32
    body_vertex_contact  (T, V) float32 (V = 0 when the model sent no vertices)
    body_vertex_subset   str: "" when V covers the full mesh, else the vertex subset it covers (compact
                         results, BodyState.vertex_subset; absent in clips written before it existed)
    object_instance_ids (K,) int64, object_template_ids (K,) str, object_class_names (K,) str,
    object_scales (K, 3) float64
    object_poses (T, K, 7) float64, object_valid (T, K) bool (False where the object was not seen)

Poses are in `frame_id` (the camera optical frame of the source). Clips hold the raw per-frame
estimates; smoothing and contact/penetration consistency belong to the 4D solver stage.
"""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from hoi_perception.pipeline.types import BodyState, FullBodyResult, MotionClip, MotionFrame, ObjectState, Pose

CLIP_FORMAT = "hoi_motion_clip/1"


def write_clip(clip: MotionClip, path: str | Path) -> Path:
    """Write `clip` to `path` (.npz) atomically: a reader sees the old file or the complete new one."""
    path = Path(path)
    if not clip.frames:
        raise ValueError("refusing to write an empty clip")
    path.parent.mkdir(parents=True, exist_ok=True)
    f0 = clip.frames[0]
    ids = [o.instance_id for o in f0.objects]
    for f in clip.frames[1:]:
        ids += [o.instance_id for o in f.objects if o.instance_id not in ids]
    by_id: dict[int, ObjectState] = {}
    for f in clip.frames:
        for o in f.objects:
            by_id.setdefault(o.instance_id, o)
    T, K = len(clip.frames), len(ids)
    poses = np.zeros((T, K, 7))
    poses[..., 6] = 1.0
    valid = np.zeros((T, K), bool)
    for t, f in enumerate(clip.frames):
        for o in f.objects:
            k = ids.index(o.instance_id)
            poses[t, k] = o.pose.as_vector()
            valid[t, k] = True
    bodies = [f.body for f in clip.frames]
    arrays = {
        "format": np.array(CLIP_FORMAT), "clip_id": np.array(clip.clip_id), "frame_id": np.array(clip.frame_id),
        "fps": np.array(float(clip.fps)),
        "stamps_ns": np.array([f.stamp_ns for f in clip.frames], np.int64),
        "body_model_id": np.array(f0.body.model_id), "joint_set": np.array(f0.body.joint_set),
        "pose_layout": np.array(f0.body.pose_layout),
        "body_shape": np.stack([b.shape_params for b in bodies]).astype(np.float32),
        "body_pose": np.stack([b.pose_params for b in bodies]).astype(np.float32),
        "body_root": np.stack([b.root_pose.as_vector() for b in bodies]).astype(np.float32),
        "joints": np.stack([b.joints for b in bodies]).astype(np.float32),
        "body_vertex_contact": np.stack([b.vertex_contact for b in bodies]).astype(np.float32),
        "body_vertex_subset": np.array(f0.body.vertex_subset),
        "object_instance_ids": np.array(ids, np.int64),
        "object_template_ids": np.array([by_id[i].template_id for i in ids], dtype=str),
        "object_class_names": np.array([by_id[i].class_name for i in ids], dtype=str),
        "object_scales": np.array([by_id[i].scale for i in ids], np.float64).reshape(K, 3),
        "object_poses": poses, "object_valid": valid,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz.partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_clip(path: str | Path) -> MotionClip:
    """Read a clip written by write_clip (no pickle)."""
    with np.load(Path(path), allow_pickle=False) as z:
        if str(z["format"]) != CLIP_FORMAT:
            raise ValueError(f"{path}: not a {CLIP_FORMAT} file (format {str(z['format'])!r})")
        frames = []
        ids = z["object_instance_ids"]
        subset = str(z["body_vertex_subset"]) if "body_vertex_subset" in z.files else ""
        for t, stamp in enumerate(z["stamps_ns"]):
            body = BodyState(model_id=str(z["body_model_id"]), joints=z["joints"][t], shape_params=z["body_shape"][t],
                             pose_params=z["body_pose"][t], pose_layout=str(z["pose_layout"]),
                             root_pose=Pose.from_vector(z["body_root"][t]), joint_set=str(z["joint_set"]),
                             vertex_contact=z["body_vertex_contact"][t], vertex_subset=subset)
            objs = [ObjectState(pose=Pose.from_vector(z["object_poses"][t, k]), instance_id=int(ids[k]),
                                template_id=str(z["object_template_ids"][k]), class_name=str(z["object_class_names"][k]),
                                scale=z["object_scales"][k])
                    for k in range(len(ids)) if z["object_valid"][t, k]]
            frames.append(MotionFrame(stamp_ns=int(stamp), body=body, objects=objs))
        return MotionClip(clip_id=str(z["clip_id"]), fps=float(z["fps"]), frame_id=str(z["frame_id"]),
                          frames=frames, file_path=str(Path(path).resolve()))


class ClipRecorder:
    """Stage: full-body results in, finished clips out.

    A clip closes when the gap between results exceeds `max_gap_s`, when it reaches `max_frames`,
    when the body model or array sizes change, or on `flush()`. Clips shorter than `min_frames`
    are discarded. Each finished clip is written to `output_dir/<clip_id>.npz` atomically.
    """

    name = "motion_recorder"
    inputs = ("fullbody",)
    outputs = ("clip",)

    def __init__(self, output_dir: str | Path, fps: float = 0.0, max_gap_s: float = 1.0,
                 max_frames: int = 900, min_frames: int = 2, prefix: str = "clip") -> None:
        if max_frames < 1 or min_frames < 1:
            raise ValueError("max_frames and min_frames must be >= 1")
        self.output_dir = Path(output_dir)
        self.fps, self.max_gap_ns = float(fps), int(max_gap_s * 1e9)
        self.max_frames, self.min_frames, self.prefix = max_frames, min_frames, prefix
        self._frames: list[MotionFrame] = []
        self._frame_id = ""
        self._count = 0
        self._lock = threading.Lock()  # flush may come from a signal handler or another thread

    def _signature(self, b: BodyState) -> tuple:
        return (b.model_id, b.joints.shape, b.shape_params.shape, b.pose_params.shape, b.vertex_contact.shape,
                b.vertex_subset)

    def process(self, result: FullBodyResult) -> MotionClip | None:
        return self.add(result)

    def add(self, result: FullBodyResult) -> MotionClip | None:
        """Add one result; return the clip this closed (written to disk), if any."""
        if not result.bodies:
            return None
        body = BodyState(**{**result.bodies[0].__dict__, "vertices": np.zeros((0, 3), np.float32)})
        frame = MotionFrame(stamp_ns=result.stamp_ns, body=body, objects=list(result.objects))
        closed = None
        with self._lock:
            if self._frames:
                last = self._frames[-1]
                if (result.stamp_ns - last.stamp_ns > self.max_gap_ns or result.stamp_ns <= last.stamp_ns
                        or result.frame_id != self._frame_id
                        or self._signature(last.body) != self._signature(body)):
                    closed = self._close_locked()
            self._frames.append(frame)
            self._frame_id = result.frame_id
            if len(self._frames) >= self.max_frames:
                closed = self._close_locked() or closed
        return closed

    def flush(self) -> MotionClip | None:
        with self._lock:
            return self._close_locked()

    close = flush

    def _close_locked(self) -> MotionClip | None:
        frames, self._frames = self._frames, []
        if len(frames) < self.min_frames:
            return None
        fps = self.fps
        if fps <= 0:  # nominal rate from the stamps
            span = (frames[-1].stamp_ns - frames[0].stamp_ns) / 1e9
            fps = (len(frames) - 1) / span if span > 0 else 30.0
        self._count += 1
        clip_id = f"{self.prefix}_{frames[0].stamp_ns}_{self._count:04d}"
        clip = MotionClip(clip_id=clip_id, fps=fps, frame_id=self._frame_id, frames=frames,
                          stamp_ns=frames[-1].stamp_ns)
        clip.file_path = str(write_clip(clip, self.output_dir / f"{clip_id}.npz").resolve())
        return clip
