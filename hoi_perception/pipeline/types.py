"""Typed inputs and results of the pipeline (plain dataclasses over numpy arrays).

Conventions: metres; positions in the camera optical frame of the source image (x right, y down,
z forward); quaternions (x, y, z, w); stamps in integer nanoseconds from the source image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

PART_BODY = 0
PART_LEFT_HAND = 1
PART_RIGHT_HAND = 2


class InputError(ValueError):
    """An input that cannot be processed (bad image, intrinsics, encoding...). The frame is skipped."""


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name} is not finite ({value})")
    return value


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics of an image of `width` x `height` pixels (distortion not modelled)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("fx", "fy", "cx", "cy"):
            _finite(name, getattr(self, name))
        if self.fx <= 0 or self.fy <= 0:
            raise InputError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        if int(self.width) <= 0 or int(self.height) <= 0:
            raise InputError(f"intrinsics size must be positive, got {self.width}x{self.height}")

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @classmethod
    def from_k(cls, k, width: int, height: int) -> "CameraIntrinsics":
        """From a row-major 3x3 matrix such as sensor_msgs/CameraInfo.k."""
        k = np.asarray(k, dtype=np.float64).reshape(-1)
        if k.size != 9:
            raise InputError(f"camera matrix must have 9 entries, got {k.size}")
        if not np.all(np.isfinite(k)):
            raise InputError("camera matrix contains NaN or infinite values")
        return cls(fx=k[0], fy=k[4], cx=k[2], cy=k[5], width=int(width), height=int(height))

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float = 60.0) -> "CameraIntrinsics":
        """A guess for sources without calibration (videos, webcams): horizontal field of view."""
        if not 1.0 < hfov_deg < 179.0:
            raise InputError(f"horizontal field of view must be in (1, 179) degrees, got {hfov_deg}")
        f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(fx=f, fy=f, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0, width=width, height=height)

    def scaled(self, width: int, height: int) -> "CameraIntrinsics":
        """The same camera for the image resized to width x height."""
        sx, sy = width / self.width, height / self.height
        return CameraIntrinsics(self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5,
                                (self.cy + 0.5) * sy - 0.5, width, height)


@dataclass
class Frame:
    """One camera image with its calibration. `image` is (H, W, 3) uint8 RGB."""

    image: np.ndarray
    stamp_ns: int
    frame_id: str
    intrinsics: CameraIntrinsics
    index: int = 0
    depth: np.ndarray | None = None  # (H, W) float32 metres, NaN/0 where unknown
    masks: np.ndarray | None = None  # (N, H, W) bool/uint8 instance masks from an upstream segmenter

    def __post_init__(self) -> None:
        img = self.image
        if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            shape = getattr(img, "shape", None)
            dtype = getattr(img, "dtype", type(img).__name__)
            raise InputError(f"image must be an (H, W, 3) uint8 RGB array, got shape {shape} dtype {dtype}")
        h, w = img.shape[:2]
        if h == 0 or w == 0:
            raise InputError(f"image is empty ({w}x{h})")
        if (self.intrinsics.width, self.intrinsics.height) != (w, h):
            raise InputError(
                f"intrinsics are for {self.intrinsics.width}x{self.intrinsics.height} "
                f"but the image is {w}x{h}")
        if self.depth is not None:
            if self.depth.shape != (h, w):
                raise InputError(f"depth is {self.depth.shape[::-1]} but the image is {w}x{h}")
        if self.masks is not None:
            if self.masks.ndim != 3 or self.masks.shape[1:] != (h, w):
                raise InputError(f"masks must be (N, {h}, {w}), got {self.masks.shape}")
        if self.stamp_ns < 0:
            raise InputError(f"negative stamp {self.stamp_ns}")


@dataclass
class Mesh:
    """Triangle mesh: vertices (V, 3) float32 metres, faces (F, 3) uint32."""

    vertices: np.ndarray
    faces: np.ndarray
    mesh_id: str = ""

    def __post_init__(self) -> None:
        self.vertices = np.asarray(self.vertices, dtype=np.float32).reshape(-1, 3)
        self.faces = np.asarray(self.faces, dtype=np.uint32).reshape(-1, 3)
        if self.faces.size and int(self.faces.max()) >= len(self.vertices):
            raise ValueError(f"mesh face index {int(self.faces.max())} >= vertex count {len(self.vertices)}")


def _arr(x, dtype=np.float32, cols: int | None = None) -> np.ndarray:
    a = np.asarray(x if x is not None else [], dtype=dtype)
    return a.reshape(-1, cols) if cols else a.reshape(-1)


@dataclass
class Pose:
    """Rigid transform: position (3,) metres, quaternion (x, y, z, w)."""

    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    orientation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, dtype=np.float64).reshape(3)
        q = np.asarray(self.orientation, dtype=np.float64).reshape(4)
        n = float(np.linalg.norm(q))
        if not math.isfinite(n) or n < 1e-9:
            raise ValueError(f"invalid quaternion {q}")
        self.orientation = q / n

    @classmethod
    def from_vector(cls, v) -> "Pose":
        """From [tx, ty, tz, qx, qy, qz, qw]."""
        v = np.asarray(v, dtype=np.float64).reshape(7)
        return cls(v[:3], v[3:])

    def as_vector(self) -> np.ndarray:
        return np.concatenate([self.position, self.orientation])

    def rotation_matrix(self) -> np.ndarray:
        """(3, 3) rotation of the (unit) quaternion."""
        x, y, z, w = self.orientation
        return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@dataclass
class BodyState:
    """One parametric body or hand (see hoi_msgs/BodyState.msg for field meanings)."""

    model_id: str
    joints: np.ndarray  # (J, 3)
    part: int = PART_BODY
    track_id: int = 0
    shape_params: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    pose_params: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    pose_layout: str = ""
    root_pose: Pose = field(default_factory=Pose)
    joint_set: str = ""
    joint_confidence: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    vertices: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    vertex_contact: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    confidence: float = 0.0
    # "" when vertices / vertex_contact cover the model's full mesh, else the id of the vertex subset they
    # cover (pipeline/mesh_detail.py: compact results carry the network's subset, not the full mesh)
    vertex_subset: str = ""

    def __post_init__(self) -> None:
        self.joints = _arr(self.joints, cols=3)
        self.shape_params = _arr(self.shape_params)
        self.pose_params = _arr(self.pose_params)
        self.joint_confidence = _arr(self.joint_confidence)
        self.vertices = _arr(self.vertices, cols=3)
        self.vertex_contact = _arr(self.vertex_contact)
        # contacts may come without vertices (clips keep contacts, drop the mesh)
        if self.vertex_contact.size and len(self.vertices) and self.vertex_contact.size != len(self.vertices):
            raise ValueError(f"{self.vertex_contact.size} vertex contacts for {len(self.vertices)} vertices")
        if self.joint_confidence.size and self.joint_confidence.size != len(self.joints):
            raise ValueError(f"{self.joint_confidence.size} joint confidences for {len(self.joints)} joints")


@dataclass
class ObjectState:
    """One object (see hoi_msgs/ObjectState.msg)."""

    pose: Pose
    class_name: str = ""
    instance_id: int = 0
    template_id: str = ""
    scale: np.ndarray = field(default_factory=lambda: np.ones(3))
    mesh: Mesh | None = None
    vertex_contact: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    confidence: float = 0.0
    mask_source: str = ""  # "given", "depth" or "segmenter": where the object's image mask came from

    def __post_init__(self) -> None:
        self.scale = np.asarray(self.scale, dtype=np.float64).reshape(3)
        self.vertex_contact = _arr(self.vertex_contact)
        if self.mesh is not None and self.vertex_contact.size not in (0, len(self.mesh.vertices)):
            raise ValueError(f"{self.vertex_contact.size} object contacts for {len(self.mesh.vertices)} vertices")


@dataclass
class FullBodyResult:
    """Full-body HOI result for one frame."""

    stamp_ns: int
    frame_id: str
    frame_index: int
    reconstructor: str
    bodies: list[BodyState]
    objects: list[ObjectState]
    confidence: float
    # Triangles of each body model id, when the reconstructor knows them (sent once downstream).
    topologies: dict[str, np.ndarray] = field(default_factory=dict)
    # "full" as reconstructed; "compact" once reduced for publishing (pipeline/mesh_detail.py)
    mesh_detail: str = "full"


@dataclass
class HandObjectResult:
    """Hand-object result over a keyframe buffer (the newest keyframe is `stamp_ns`)."""

    stamp_ns: int
    frame_id: str
    frame_index: int
    reconstructor: str
    object: ObjectState
    keyframe_stamps_ns: list[int]
    keyframe_object_poses: list[Pose]
    hands: list[BodyState]
    confidence: float
    topologies: dict[str, np.ndarray] = field(default_factory=dict)
    mesh_detail: str = "full"

    def __post_init__(self) -> None:
        if len(self.keyframe_stamps_ns) != len(self.keyframe_object_poses):
            raise ValueError("one object pose per keyframe stamp is required")


@dataclass
class MotionFrame:
    stamp_ns: int
    body: BodyState
    objects: list[ObjectState]


@dataclass
class MotionClip:
    """A 4D clip: frames at a nominal rate, poses in `frame_id`."""

    clip_id: str
    fps: float
    frame_id: str
    frames: list[MotionFrame]
    file_path: str = ""
    stamp_ns: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be positive, got {self.fps}")


def bodies_and_objects(result: FullBodyResult | HandObjectResult) -> tuple[list[BodyState], list[ObjectState]]:
    """The people (or hands) and objects of either kind of result."""
    if isinstance(result, FullBodyResult):
        return result.bodies, result.objects
    return result.hands, [result.object]
