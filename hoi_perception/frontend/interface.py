"""What a front-end detector gives: people and hands in one camera image.

Keypoints are named, so a detector with another layout (a COCO-17 TensorRT model on a Jetson) can
replace the default one: the fitting core matches names, not indices. Conventions:

* 2D keypoints in pixels of the input image (x right, y down), with a visibility in [0, 1].
* World landmarks in metres about the landmarks' own centre (the hips for a body, the hand's
  geometric centre for a hand), axes aligned with the camera's optical frame (x right, y down,
  z forward). They carry the detector's 3D guess of the pose; their scale comes from a learned
  prior, not a measurement.
* Sides are the person's own ("left" = the person's left hand), whatever the image shows.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field

import numpy as np


class FrontEndUnavailable(RuntimeError):
    """The detector cannot run here (its package is missing or its bundled model cannot load)."""


@dataclass(frozen=True)
class PersonDetection:
    """One person. keypoints (K, 2) px; visibility (K,); world (K, 3) m or None; mask (H, W) float32
    in [0, 1] or None; box (4,) x0, y0, x1, y1 px; score in [0, 1]; track_id stable while tracked."""

    keypoint_names: tuple[str, ...]
    keypoints: np.ndarray
    visibility: np.ndarray
    world: np.ndarray | None
    mask: np.ndarray | None
    box: np.ndarray
    score: float
    track_id: int = 0

    def index(self, name: str) -> int:
        return self.keypoint_names.index(name)

    @property
    def height_px(self) -> float:
        return float(self.box[3] - self.box[1])


@dataclass(frozen=True)
class HandDetection:
    """One hand. keypoints (21, 2) px in HAND_JOINTS order (wrist, thumb .. pinky, base to tip);
    world (21, 3) m or None; side "left" | "right"; side_from says how the side was decided
    ("body": the nearest wrist of a detected person, "classifier": the detector's own label, "track":
    the side this hand had over the stream, where this frame's evidence said otherwise)."""

    keypoints: np.ndarray
    world: np.ndarray | None
    side: str
    score: float
    box: np.ndarray
    side_from: str = "classifier"
    person: int | None = None  # index into Detections.people of the person it belongs to

    @property
    def size_px(self) -> float:
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@dataclass
class Detections:
    """Everything the front end found in one image (h, w); seconds spent per detector."""

    image_size: tuple[int, int]
    people: list[PersonDetection] = field(default_factory=list)
    hands: list[HandDetection] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def person_mask(self, index: int, threshold: float = 0.5) -> np.ndarray | None:
        mask = self.people[index].mask
        return None if mask is None else mask >= threshold


class FrontEnd(abc.ABC):
    """A person and hand detector. ``mode`` "video" keeps track ids across calls (a stream); "image"
    treats every call as an unrelated photo. Not thread-safe: one instance per stream."""

    name: str = "frontend"
    person_keypoint_names: tuple[str, ...] = ()

    def __init__(self, mode: str = "video") -> None:
        if mode not in ("video", "image"):
            raise ValueError(f"mode must be 'video' or 'image', got {mode!r}")
        self.mode = mode

    @abc.abstractmethod
    def detect(self, image_rgb: np.ndarray, people: bool = True, hands: bool = True) -> Detections:
        """People and/or hands in an (H, W, 3) uint8 RGB image."""

    def reset(self) -> None:
        """Forget the tracked state (a new stream, or a jump in time)."""

    def close(self) -> None:
        """Release the detector's resources."""


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (4,) boxes x0, y0, x1, y1."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def match_boxes(previous: list, boxes: list, min_iou: float) -> list[int | None]:
    """For each box in turn, the index of the still unmatched previous box it overlaps most, if their
    IoU is at least ``min_iou``, else None: who is who from one frame to the next."""
    free, out = list(range(len(previous))), []
    for box in boxes:
        best = max(free, key=lambda i: box_iou(previous[i], box), default=None)
        if best is not None and box_iou(previous[best], box) >= min_iou:
            free.remove(best)
            out.append(best)
        else:
            out.append(None)
    return out


def box_of(points: np.ndarray, weights: np.ndarray | None = None, pad: float = 0.1,
           size: tuple[int, int] | None = None) -> np.ndarray:
    """x0, y0, x1, y1 around the points with weight > 0.3 (all when none qualify), padded by ``pad``
    of the larger side and clipped to an image of ``size`` (h, w) when given."""
    pts = np.asarray(points, np.float64)
    if weights is not None and np.count_nonzero(np.asarray(weights) > 0.3) >= 2:
        pts = pts[np.asarray(weights) > 0.3]
    lo, hi = pts.min(0), pts.max(0)
    margin = pad * float(max(hi - lo))
    box = np.array([lo[0] - margin, lo[1] - margin, hi[0] + margin, hi[1] + margin])
    if size is not None:
        h, w = size
        box = np.clip(box, 0, [w - 1, h - 1, w - 1, h - 1])
    return box
