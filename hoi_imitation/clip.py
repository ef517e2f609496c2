"""The imitation clip: one file per clip, what the imitation task reads.

Format ``hoi_imitation_clip`` version 1 (docs/motion_clip.md): a numpy ``.npz`` without pickles whose
``header`` entry is UTF-8 JSON bytes and whose other entries are plain arrays. Everything is z-up,
metres, REP 103 (x forward, y left), quaternions (x, y, z, w).
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hoi_perception.body.joints import BODY_JOINTS, BODY_PARENTS

from .rotations import mat_to_quat, quat_normalize, quat_to_mat, slerp_series
from .skeleton import forward_kinematics

FORMAT = "hoi_imitation_clip"
VERSION = 1
SUFFIX = ".npz"


class ClipError(ValueError):
    """A motion clip that cannot be used; the message names the problem."""


@dataclass
class ObjectSpec:
    """The manipulated object: registry id, geometry template and mass properties.

    template: {"type": "sphere", "radius": r} | {"type": "box", "size": [hx, hy, hz]}
    | {"type": "mesh", "path": "..."} (path absolute or relative to the shared data folder).
    inertia: principal moments (kg m^2) about the centre of mass, in the object frame.
    """

    id: str
    template: dict
    mass: float
    inertia: tuple[float, float, float]
    com: tuple[float, float, float] = (0.0, 0.0, 0.0)
    friction: float = 0.8

    def to_json(self) -> dict:
        return {"id": self.id, "template": self.template, "mass": float(self.mass),
                "inertia": [float(x) for x in self.inertia], "com": [float(x) for x in self.com],
                "friction": float(self.friction)}

    @staticmethod
    def from_json(d: dict) -> "ObjectSpec":
        return ObjectSpec(d["id"], dict(d["template"]), float(d["mass"]), tuple(d["inertia"]),
                          tuple(d.get("com", (0, 0, 0))), float(d.get("friction", 0.8)))


@dataclass
class SkeletonClip:
    """A body (and optionally one object) motion on the canonical skeleton.

    Arrays (T frames, J = len(BODY_JOINTS)):
      timestamps (T,) s, strictly increasing; root_pos (T, 3); joint_quat (T, J, 4) local
      rotations, joint 0 = global root orientation; joint_pos (T, J, 3) global joint positions;
      rest_offsets (J, 3) joint offsets from the parent with every rotation at identity;
      joint_valid (J,) joints the source measured (others completed from the skeleton);
      object_pos (T, 3), object_quat (T, 4) when an object is present; contacts (T, K) in [0, 1]
      named by contact_names ("<body joint>|hands|feet:object|ground").
    """

    fps: float
    timestamps: np.ndarray
    root_pos: np.ndarray
    joint_quat: np.ndarray
    joint_pos: np.ndarray
    rest_offsets: np.ndarray
    joint_valid: np.ndarray
    source: str = "unknown"
    loop: bool = False
    object: ObjectSpec | None = None
    object_pos: np.ndarray | None = None
    object_quat: np.ndarray | None = None
    contact_names: list[str] = field(default_factory=list)
    contacts: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def duration(self) -> float:
        return float(self.timestamps[-1] - self.timestamps[0])

    def validate(self) -> "SkeletonClip":
        validate(self)
        return self

    def fk_positions(self) -> np.ndarray:
        """Joint positions implied by rotations + rest offsets (what a rigid body can follow)."""
        pos, _ = forward_kinematics(self.root_pos, quat_to_mat(self.joint_quat), self.rest_offsets)
        return pos

    def resampled(self, fps: float) -> "SkeletonClip":
        """The clip at a uniform frame rate (slerp for rotations, linear for positions)."""
        t0, t1 = float(self.timestamps[0]), float(self.timestamps[-1])
        n = max(2, int(np.floor((t1 - t0) * fps + 1e-6)) + 1)
        t = t0 + np.arange(n) / fps

        def lerp(a):
            flat = a.reshape(a.shape[0], -1)
            return np.stack([np.interp(t, self.timestamps, flat[:, k]) for k in range(flat.shape[1])], 1).reshape((n,) + a.shape[1:])

        out = SkeletonClip(
            fps=float(fps), timestamps=t, root_pos=lerp(self.root_pos),
            joint_quat=slerp_series(self.timestamps, self.joint_quat, t), joint_pos=lerp(self.joint_pos),
            rest_offsets=self.rest_offsets.copy(), joint_valid=self.joint_valid.copy(), source=self.source,
            loop=self.loop, object=self.object, contact_names=list(self.contact_names), meta=dict(self.meta))
        if self.object_pos is not None:
            out.object_pos = lerp(self.object_pos)
            out.object_quat = slerp_series(self.timestamps, self.object_quat, t)
        if self.contacts is not None:
            out.contacts = lerp(self.contacts.astype(np.float64)).astype(np.float32)
        return out


def _check_finite(name: str, a: np.ndarray) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        frames = np.unique(np.nonzero(bad)[0])[:5].tolist() if a.ndim > 1 else np.nonzero(bad)[0][:5].tolist()
        raise ClipError(f"{name} contains {int(bad.sum())} NaN/inf values (first frames {frames})")


def validate(clip: SkeletonClip) -> None:
    """Raise ClipError naming the first problem found."""
    J = len(BODY_JOINTS)
    if not np.isfinite(clip.fps) or clip.fps <= 0:
        raise ClipError(f"fps must be a positive number, got {clip.fps}")
    T = int(np.asarray(clip.timestamps).shape[0]) if np.ndim(clip.timestamps) == 1 else -1
    if T < 0:
        raise ClipError(f"timestamps must have shape (T,), got {np.shape(clip.timestamps)}")
    if T == 0:
        raise ClipError("clip has zero frames")
    if T < 2:
        raise ClipError("clip has a single frame; imitation needs at least 2")
    expect = {"root_pos": (T, 3), "joint_quat": (T, J, 4), "joint_pos": (T, J, 3),
              "rest_offsets": (J, 3), "joint_valid": (J,)}
    for name, shape in expect.items():
        a = np.asarray(getattr(clip, name))
        if a.ndim >= 2 and name in ("joint_quat", "joint_pos") and a.shape[0] == T and a.shape[1] != J:
            raise ClipError(f"{name} has {a.shape[1]} joints, the canonical skeleton has {J} ({', '.join(BODY_JOINTS[:3])}, ...)")
        if name == "rest_offsets" and a.ndim == 2 and a.shape[0] != J:
            raise ClipError(f"rest_offsets has {a.shape[0]} joints, the canonical skeleton has {J}")
        if a.shape != shape:
            raise ClipError(f"{name} has shape {a.shape}, expected {shape}")
    for name in ("timestamps", "root_pos", "joint_quat", "joint_pos", "rest_offsets"):
        _check_finite(name, np.asarray(getattr(clip, name), dtype=np.float64))
    dt = np.diff(clip.timestamps)
    if (dt <= 0).any():
        k = int(np.nonzero(dt <= 0)[0][0])
        raise ClipError(f"frames out of order: timestamp[{k + 1}]={clip.timestamps[k + 1]:.6f} s is not after "
                        f"timestamp[{k}]={clip.timestamps[k]:.6f} s")
    norms = np.linalg.norm(clip.joint_quat, axis=-1)
    if (np.abs(norms - 1.0) > 1e-3).any():
        raise ClipError("joint_quat holds non-unit quaternions (expected (x, y, z, w), normalised)")
    if clip.object is not None:
        from .objects import resolve_object  # noqa: PLC0415 - registry imports trimesh lazily

        resolve_object(clip.object)
        for name, shape in (("object_pos", (T, 3)), ("object_quat", (T, 4))):
            a = getattr(clip, name)
            if a is None or np.shape(a) != shape:
                raise ClipError(f"{name} must have shape {shape} when an object is given, got {None if a is None else np.shape(a)}")
            _check_finite(name, np.asarray(a, dtype=np.float64))
    elif clip.object_pos is not None:
        raise ClipError("object_pos given without an object description")
    if clip.contacts is not None:
        c = np.asarray(clip.contacts)
        if c.shape != (T, len(clip.contact_names)):
            raise ClipError(f"contacts has shape {c.shape}, expected {(T, len(clip.contact_names))} "
                            f"(one column per contact name)")
        _check_finite("contacts", c.astype(np.float64))


def _header(clip: SkeletonClip) -> dict:
    return {
        "format": FORMAT, "version": VERSION, "fps": float(clip.fps), "source": clip.source,
        "loop": bool(clip.loop), "up": "z", "units": "m", "quaternion": "xyzw",
        "joint_names": list(BODY_JOINTS), "parents": list(BODY_PARENTS),
        "object": None if clip.object is None else clip.object.to_json(),
        "contact_names": list(clip.contact_names), "meta": clip.meta,
    }


def save_clip(clip: SkeletonClip, path: str | os.PathLike) -> Path:
    """Validate and write atomically (temporary file in the same folder, then rename)."""
    validate(clip)
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_suffix(SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "header": np.frombuffer(json.dumps(_header(clip)).encode("utf-8"), dtype=np.uint8),
        "timestamps": np.asarray(clip.timestamps, np.float64), "root_pos": np.asarray(clip.root_pos, np.float64),
        "joint_quat": np.asarray(clip.joint_quat, np.float64), "joint_pos": np.asarray(clip.joint_pos, np.float64),
        "rest_offsets": np.asarray(clip.rest_offsets, np.float64), "joint_valid": np.asarray(clip.joint_valid, bool),
    }
    if clip.object is not None:
        arrays["object_pos"] = np.asarray(clip.object_pos, np.float64)
        arrays["object_quat"] = np.asarray(clip.object_quat, np.float64)
    if clip.contacts is not None:
        arrays["contacts"] = np.asarray(clip.contacts, np.float32)
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; other processes (ROS nodes) read clips
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_clip_file(path: str | os.PathLike) -> SkeletonClip:
    """Load a clip in this format (or, by content, a perception recorder clip) and validate it."""
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ClipError(f"{path}: not a readable .npz motion clip ({e})") from e
    with z:
        if "header" not in z:
            from .loaders.perception_clip import is_recorder_clip, load_recorder_clip  # noqa: PLC0415

            if is_recorder_clip(z):
                z.close()
                return load_recorder_clip(path)
            raise ClipError(f"{path}: no 'header' entry; not a {FORMAT} file")
        h = json.loads(bytes(z["header"]).decode("utf-8"))
        if h.get("format") != FORMAT:
            raise ClipError(f"{path}: format {h.get('format')!r}, expected {FORMAT!r}")
        if int(h.get("version", -1)) > VERSION:
            raise ClipError(f"{path}: clip version {h.get('version')} is newer than this reader ({VERSION})")
        names = list(h.get("joint_names", []))
        if names != list(BODY_JOINTS):
            if len(names) != len(BODY_JOINTS):
                raise ClipError(f"{path}: clip has {len(names)} joints, the canonical skeleton has {len(BODY_JOINTS)}")
            diff = [(a, b) for a, b in zip(names, BODY_JOINTS) if a != b][:3]
            raise ClipError(f"{path}: joint names differ from the canonical skeleton: {diff}")
        get = lambda k: z[k] if k in z else None  # noqa: E731
        clip = SkeletonClip(
            fps=float(h["fps"]), timestamps=z["timestamps"], root_pos=z["root_pos"], joint_quat=z["joint_quat"],
            joint_pos=z["joint_pos"], rest_offsets=z["rest_offsets"], joint_valid=z["joint_valid"].astype(bool),
            source=h.get("source", "unknown"), loop=bool(h.get("loop", False)),
            object=None if h.get("object") is None else ObjectSpec.from_json(h["object"]),
            object_pos=get("object_pos"), object_quat=get("object_quat"),
            contact_names=list(h.get("contact_names", [])), contacts=get("contacts"), meta=h.get("meta", {}))
    try:
        validate(clip)
    except ClipError as e:
        raise ClipError(f"{path}: {e}") from None
    return clip


def clip_from_global(fps: float, positions: np.ndarray, global_rot: np.ndarray, rest_offsets: np.ndarray,
                     valid: np.ndarray, source: str, timestamps: np.ndarray | None = None, **kw) -> SkeletonClip:
    """Build a clip from global joint positions and rotation matrices (what every loader ends with)."""
    from .skeleton import local_from_global  # noqa: PLC0415

    loc = quat_normalize(mat_to_quat(local_from_global(global_rot)))
    ts = np.arange(positions.shape[0]) / fps if timestamps is None else timestamps
    return SkeletonClip(fps=float(fps), timestamps=np.asarray(ts, np.float64), root_pos=positions[:, 0].copy(),
                      joint_quat=loc, joint_pos=positions, rest_offsets=rest_offsets, joint_valid=valid,
                      source=source, **kw)


def load_clip(path: str | os.PathLike, kind: str | None = None) -> SkeletonClip:
    """Any supported clip as a canonical SkeletonClip: this format, the perception recorder's
    ``hoi_motion_clip/1`` clips, CMU BVH, DeepMimic JSON, SkillMimic ``.pt`` (by suffix, or
    ``kind`` = clip | recorder | bvh | deepmimic | skillmimic)."""
    from .loaders import load_clip as _load  # noqa: PLC0415

    return _load(path, kind)
