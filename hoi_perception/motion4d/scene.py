"""A clip folder as the annotation page sees it: frames, the solved meshes per frame (camera optical
frame, metres), the annotations, and the re-solve. One re-solve at a time per scene."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from hoi_perception.body.joints import BODY_JOINTS

from . import annotations as A
from .evidence import ClipEvidence, frame_jpeg
from .solve import ClipSolution


class SceneError(ValueError):
    """A clip folder that cannot be opened; the message says why."""


class ClipScene:
    def __init__(self, clip_dir: Path, evidence: ClipEvidence, solution: ClipSolution) -> None:
        from hoi_perception.assets import body_model

        self.dir = Path(clip_dir)
        self.evidence, self.solution = evidence, solution
        self.model = body_model()
        self.num_frames = evidence.num_frames
        self.fps = float(evidence.fps)
        self.image_size = tuple(evidence.image_size)
        self.camera = np.asarray(evidence.camera, np.float64)
        self.joint_names = list(BODY_JOINTS)
        self.body_faces = self.model.faces.numpy().astype(np.int32)
        self.object_id = solution.object_id or None
        self._asset = None
        self.object_faces = None
        if self.object_id:
            from hoi_perception.assets import object_library

            self._asset = object_library().get(self.object_id)
            self.object_faces = np.asarray(self._asset.faces, np.int32)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, clip_dir) -> ClipScene:
        d = Path(clip_dir)
        for name in ("evidence.npz", "solution.npz"):
            if not (d / name).is_file():
                raise SceneError(f"{d}: no {name}; make the folder with `hoi-perception reconstruct VIDEO --out {d}`")
        try:
            return cls(d, ClipEvidence.load(d / "evidence.npz"), ClipSolution.load(d / "solution.npz"))
        except (OSError, KeyError, ValueError) as exc:
            raise SceneError(f"{d}: cannot read the clip ({exc})") from exc

    def _check(self, t: int) -> int:
        t = int(t)
        if not 0 <= t < self.num_frames:
            raise IndexError(f"frame {t} is outside the clip's 0..{self.num_frames - 1}")
        return t

    def frame_jpeg(self, t: int) -> bytes:
        return frame_jpeg(self.dir, self._check(t))

    def meshes(self, t: int) -> dict:
        """Frame t's solved body (None where the frame is not solved) and object."""
        from .output import body_vertices

        t = self._check(t)
        sol = self.solution
        out = {"body_vertices": None, "joints": None, "object_vertices": None, "object_pose": None}
        if sol.solved[t]:
            out["body_vertices"] = body_vertices(self.model, sol, [t])[0].astype(np.float32)
            out["joints"] = sol.joints[t].astype(np.float32)
        if self._asset is not None and len(sol.object_valid) and sol.object_valid[t]:
            pose = sol.object_pose[t]
            out["object_pose"] = pose
            out["object_vertices"] = (self._asset.vertices @ pose[:3, :3].T + pose[:3, 3]).astype(np.float32)
        return out

    def annotations(self) -> dict:
        return A.load(self.dir, **self._checks())

    def _checks(self) -> dict:
        return {"num_frames": self.num_frames, "num_vertices": self.model.num_vertices,
                "has_object": self.object_id is not None}

    def save_annotations(self, data: dict) -> dict:
        return A.save(self.dir, data, **self._checks())

    def resolve(self) -> dict:
        """Re-solve with the saved annotations; the scene then shows the new solution."""
        from .reconstruct import resolve

        if not self._lock.acquire(blocking=False):
            raise RuntimeError("a re-solve of this clip is already running")
        try:
            summary = resolve(self.dir, videos=False)
            self.solution = ClipSolution.load(self.dir / "solution.npz")
        finally:
            self._lock.release()
        return {"seconds": summary["seconds"]["solve"],
                "pairs": [{"id": k, "residual_m": v} for k, v in summary["pair_residuals"].items()],
                "warnings": summary["warnings"]}
