"""What the clip solve is fitted to, gathered once per video: per sampled frame, the front end's person
(2D keypoints, visibility, world landmarks, mask, box) and, where an object template is named, the
full-body network's object pose from that frame's object mask. Kept in ``evidence.npz`` so a
re-solve (after annotations) does not run the detectors again; the frames go to ``frames/`` as JPEG
for the annotation page and the overlay videos.

Frames where the front end finds no person keep ``person`` False: they split the clip into segments
(a person leaving and re-entering), as do shot cuts (a jump in the image's colour histogram).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.atomic_files import atomic_write, atomic_write_bytes

log = logging.getLogger("hoi_perception.motion4d")
MASK_SIDE = 320  # person masks are kept at this longer side: the silhouette term needs no more
CUT_CORRELATION = 0.5  # consecutive frames whose colour histograms correlate less than this are a cut
JPEG_QUALITY = 88


class VideoError(ValueError):
    """A video that cannot be read; the message names the file and why."""


@dataclass
class ClipEvidence:
    video: str
    fps: float  # of the sampled frames
    camera: np.ndarray  # (3, 3) K in pixels of the full image
    image_size: tuple[int, int]  # (width, height)
    keypoint_names: tuple[str, ...]
    frame_index: np.ndarray  # (T,) index into the video
    person: np.ndarray  # (T,) bool: the front end found a person
    keypoints: np.ndarray  # (T, K, 2) px (NaN where no person)
    visibility: np.ndarray  # (T, K)
    world: np.ndarray  # (T, K, 3) m about the hips, camera axes (NaN where none)
    box: np.ndarray  # (T, 4) px
    masks: np.ndarray  # (T, h, w) bool, the person's mask at MASK_SIDE
    cut: np.ndarray  # (T,) bool: frame t starts a new shot
    object_id: str = ""
    object_pose: np.ndarray = field(default_factory=lambda: np.zeros((0, 4, 4)))  # (T, 4, 4) template -> camera
    object_valid: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (T,)
    object_source: list[str] = field(default_factory=list)  # (T,) where the frame's object mask came from

    @property
    def num_frames(self) -> int:
        return len(self.frame_index)

    @property
    def mask_scale(self) -> float:
        """Mask pixels per image pixel."""
        return self.masks.shape[2] / self.image_size[0] if self.num_frames else 1.0

    def segments(self, min_frames: int = 3) -> list[tuple[int, int]]:
        """[first, last) runs of frames with a person and no cut inside, at least ``min_frames`` long."""
        out, start = [], None
        for t in range(self.num_frames + 1):
            end = t == self.num_frames or not self.person[t] or (self.cut[t] and start is not None)
            if end and start is not None:
                if t - start >= min_frames:
                    out.append((start, t))
                start = None
            if t < self.num_frames and self.person[t] and start is None:
                start = t
        return out

    # -- file ------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        arrays = {k: getattr(self, k) for k in ("camera", "frame_index", "person", "keypoints", "visibility", "world",
                                                "box", "cut", "object_pose", "object_valid")}
        arrays.update(video=np.array(self.video), fps=np.array(self.fps), image_size=np.array(self.image_size),
                      keypoint_names=np.array(self.keypoint_names, dtype=str), object_id=np.array(self.object_id),
                      object_source=np.array(self.object_source, dtype=str),
                      mask_shape=np.array(self.masks.shape), masks=np.packbits(self.masks.reshape(-1)))

        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **arrays)

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> ClipEvidence:
        with np.load(path, allow_pickle=False) as z:
            shape = tuple(int(v) for v in z["mask_shape"])
            masks = np.unpackbits(z["masks"])[:int(np.prod(shape))].reshape(shape).astype(bool)
            return cls(video=str(z["video"]), fps=float(z["fps"]), camera=z["camera"],
                       image_size=tuple(int(v) for v in z["image_size"]),
                       keypoint_names=tuple(str(n) for n in z["keypoint_names"]), frame_index=z["frame_index"],
                       person=z["person"], keypoints=z["keypoints"], visibility=z["visibility"], world=z["world"],
                       box=z["box"], masks=masks, cut=z["cut"], object_id=str(z["object_id"]),
                       object_pose=z["object_pose"], object_valid=z["object_valid"],
                       object_source=[str(s) for s in z["object_source"]])


def open_video(path: Path) -> tuple[cv2.VideoCapture, float, int]:
    """An opened capture, its frame rate and frame count, or `VideoError`."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: the file is empty")
    cap = cv2.VideoCapture(str(path))
    ok, first = cap.read() if cap.isOpened() else (False, None)
    if not ok or first is None:
        cap.release()
        raise VideoError(f"{path}: not a readable video (no frame decodes)")
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return cap, (fps if 1.0 <= fps <= 1000.0 else 30.0), int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)


def _histogram(bgr: np.ndarray) -> np.ndarray:
    small = cv2.resize(bgr, (160, 90), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    h = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])
    return cv2.normalize(h, h).reshape(-1)


class ObjectEvidence:
    """The full-body network's object pose per frame, from the frame's object mask (given, or the
    learned segmenter prompted by the person and hands), refined onto that mask."""

    def __init__(self, template: str, backend: str | None = None) -> None:
        from hoi_perception.objectmask.segmenter import ObjectSegmenter
        from hoi_perception.pipeline.stages import load_reconstructor

        recon = load_reconstructor("fullbody", "fullbody", backend=backend, object_class=template, person_fit=False,
                                   silhouette_fit=True)
        self.infer, self.template = recon.infer, template
        self.segmenter = ObjectSegmenter(backend=recon.backend_name)

    def __call__(self, rgb, det, index: int, person_mask, camera, given=None) -> tuple[np.ndarray | None, str]:
        """(4, 4) template -> camera similarity, or None, and where the mask came from (or why none)."""
        from hoi_perception.objectmask.sources import choose_object_mask, hand_points

        hands = [h for h in det.hands if h.person == index]
        found = choose_object_mask(rgb, given, None, person_mask, hand_points(det.people[index], hands),
                                   self.segmenter)
        if found.mask is None:
            return None, f"none: {found.reason}"
        res = self.infer.run(rgb, person_mask, found.mask, camera, self.template)
        s, r, t = res["object_pose_refined"]
        pose = np.eye(4)
        pose[:3, :3], pose[:3, 3] = s * np.asarray(r), t
        return pose, found.source


def collect(video: Path, out_dir: Path, camera: np.ndarray | None = None, fov_deg: float = 60.0, stride: int = 1,
            max_frames: int | None = None, object_template: str | None = None, object_masks=None,
            frontend: str = "mediapipe", progress=None, fps: float | None = None) -> ClipEvidence:
    """Run the front end (and the object network) over the video's sampled frames; frames go to
    ``out_dir/frames/<t>.jpg``. ``object_masks(video_index)`` may give a frame's object mask; ``fps``
    replaces the container's frame rate (some files state a wrong one)."""
    from hoi_perception.frontend.factory import make_frontend
    from hoi_perception.fullbody.person import choose_person
    from hoi_perception.pipeline.types import CameraIntrinsics

    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    cap, container_fps, count = open_video(video)
    fps = float(fps) if fps else container_fps
    if not 0.5 <= fps <= 1000.0:
        raise ValueError(f"frame rate must be in [0.5, 1000] fps, got {fps}")
    objects = ObjectEvidence(object_template) if object_template else None
    front = make_frontend(frontend, mode="video", max_people=2, max_hands=2)
    frames_dir = Path(out_dir) / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    rows, names, size, k, previous_hist = [], (), None, None, None
    try:
        i = -1
        while max_frames is None or len(rows) < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            i += 1
            if i % stride:
                continue
            h, w = bgr.shape[:2]
            if size is None:
                size = (w, h)
                k = np.asarray(camera, np.float64) if camera is not None else \
                    CameraIntrinsics.from_fov(w, h, fov_deg).matrix
            elif (w, h) != size:
                raise VideoError(f"{video}: frame {i} is {w}x{h}, the video started at {size[0]}x{size[1]}")
            hist = _histogram(bgr)
            cut = previous_hist is not None and cv2.compareHist(previous_hist, hist, cv2.HISTCMP_CORREL) < CUT_CORRELATION
            previous_hist = hist
            t = len(rows)
            ok, jpg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            atomic_write_bytes(frames_dir / f"{t:06d}.jpg", jpg.tobytes())
            rgb = np.ascontiguousarray(bgr[..., ::-1])
            if cut:
                front.reset()
            det = front.detect(rgb)
            row = {"index": i, "cut": cut, "object": None, "source": ""}
            if det.people:
                given = None if object_masks is None else object_masks(i)
                j, _ = choose_person(det, given)
                p = det.people[j]
                names = p.keypoint_names
                mask = det.person_mask(j)
                row.update(person=p, mask=mask)
                if objects is not None:
                    full = mask if mask is not None else np.zeros((h, w), bool)
                    row["object"], row["source"] = objects(rgb, det, j, full, k, given)
            rows.append(row)
            if progress:
                progress(len(rows), count // stride if count else 0)
    finally:
        cap.release()
        front.close()
    if not rows:
        raise VideoError(f"{video}: no frame decodes")
    return _assemble(str(video), fps / stride, k, size, names, rows, object_template or "")


def _assemble(video, fps, k, size, names, rows, object_id) -> ClipEvidence:
    w, h = size
    s = MASK_SIDE / max(w, h)
    mw, mh = max(1, round(w * s)), max(1, round(h * s))
    n, kk = len(rows), max(len(names), 1)
    kp = np.full((n, kk, 2), np.nan)
    vis = np.zeros((n, kk))
    world = np.full((n, kk, 3), np.nan)
    box = np.zeros((n, 4))
    masks = np.zeros((n, mh, mw), bool)
    person = np.zeros(n, bool)
    pose = np.tile(np.eye(4), (n, 1, 1))
    valid = np.zeros(n, bool)
    for t, r in enumerate(rows):
        p = r.get("person")
        if p is None:
            continue
        person[t] = True
        kp[t], vis[t], box[t] = p.keypoints, p.visibility, p.box
        if p.world is not None:
            world[t] = p.world
        if r.get("mask") is not None:
            masks[t] = cv2.resize(r["mask"].astype(np.uint8), (mw, mh), interpolation=cv2.INTER_NEAREST) > 0
        if r["object"] is not None:
            pose[t], valid[t] = r["object"], True
    return ClipEvidence(video=video, fps=float(fps), camera=np.asarray(k, np.float64), image_size=(w, h),
                        keypoint_names=tuple(names), frame_index=np.array([r["index"] for r in rows]),
                        person=person, keypoints=kp, visibility=vis, world=world, box=box, masks=masks,
                        cut=np.array([r["cut"] for r in rows]), object_id=object_id,
                        object_pose=pose if object_id else np.zeros((0, 4, 4)),
                        object_valid=valid if object_id else np.zeros(0, bool),
                        object_source=[r["source"] for r in rows] if object_id else [])


def frame_jpeg(out_dir: Path, t: int) -> bytes:
    return (Path(out_dir) / "frames" / f"{t:06d}.jpg").read_bytes()


def read_frame(out_dir: Path, t: int) -> np.ndarray:
    """(H, W, 3) BGR of sampled frame t."""
    data = np.frombuffer(frame_jpeg(out_dir, t), np.uint8)
    return cv2.imdecode(data, cv2.IMREAD_COLOR)

