"""A solved clip as files: the imitation clip (``hoi_imitation_clip``, the one clip format the
imitation module reads; docs/motion_clip.md), the overlay and side-view videos.

The imitation clip holds the longest solved segment in the gravity-aligned world frame (z up,
REP 103), with the object where the clip has one and a "hands:object" contact where a wrist is
within HAND_CONTACT_M of the object's surface.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

from .evidence import ClipEvidence, read_frame
from .solve import ClipSolution
from .videos import BODY_COLOUR, OBJECT_COLOUR, SideView, draw_mesh, open_writer, project

HAND_CONTACT_M = 0.08
WRISTS = ("left_wrist", "right_wrist")


def to_world(points: np.ndarray, world_from_camera: np.ndarray) -> np.ndarray:
    return points @ world_from_camera[:3, :3].T + world_from_camera[:3, 3]


def object_points(sol: ClipSolution, t: int, local: np.ndarray) -> np.ndarray:
    pose = sol.object_pose[t]
    return local @ pose[:3, :3].T + pose[:3, 3]


def longest_segment(sol: ClipSolution) -> tuple[int, int]:
    return max(sol.segments, key=lambda s: s[1] - s[0])


def write_imitation_clip(sol: ClipSolution, ev: ClipEvidence, path: Path) -> Path:
    from hoi_imitation.clip import ObjectSpec, save_clip
    from hoi_imitation.loaders.skillmimic import clip_from_positions
    from hoi_perception.body.joints import BODY_JOINTS

    a, b = longest_segment(sol)
    w = sol.world_from_camera
    pos = to_world(sol.joints[a:b], w)
    kw: dict = {}
    if sol.object_id and sol.object_valid[a:b].all():
        from hoi_perception.assets import object_library

        asset = object_library().get(sol.object_id)
        poses = w @ sol.object_pose[a:b]
        scale = np.cbrt(np.abs(np.linalg.det(poses[:, :3, :3])))
        rot = poses[:, :3, :3] / scale[:, None, None]
        # the template at the clip's size, as a mesh the simulator can load
        mesh_path = path.with_name(path.stem + "_object.obj")
        mesh = asset.mesh.copy()
        mesh.apply_scale(float(np.median(scale)))
        mesh.export(mesh_path)
        spec = ObjectSpec(sol.object_id, {"type": "mesh", "path": str(mesh_path.resolve())}, float(asset.mass),
                          (1e-3, 1e-3, 1e-3))
        surface = np.asarray(asset.surface_points, np.float64)
        wrists = pos[:, [BODY_JOINTS.index(n) for n in WRISTS]]
        pts = np.einsum("tij,nj->tni", poses[:, :3, :3], surface) + poses[:, None, :3, 3]
        dist = np.linalg.norm(wrists[:, :, None] - pts[:, None], axis=-1).min(-1).min(-1)
        kw = {"object": spec, "object_pos": poses[:, :3, 3], "object_quat": Rotation.from_matrix(rot).as_quat(),
                  "contact_names": ["hands:object"], "contacts": (dist < HAND_CONTACT_M).astype(np.float32)[:, None]}
    clip = clip_from_positions(pos, ev.fps, f"video:{Path(ev.video).name}", **kw)
    clip.meta = {"camera_frame": "world from the ground plane (still camera)", "frames": [int(a), int(b)],
                 "ground": sol.ground_source}
    return save_clip(clip, path)


def body_vertices(model, sol: ClipSolution, frames) -> np.ndarray:
    """(len(frames), V, 3) camera-frame vertices of the solved body."""
    with torch.no_grad():
        return model(sol.body_params(list(frames)), validate=False).vertices.numpy()


def write_videos(model, sol: ClipSolution, ev: ClipEvidence, out_dir: Path, batch: int = 32) -> list[Path]:
    """overlay.mp4 (every sampled frame; unsolved frames shown bare) and side.mp4 (solved frames)."""
    out_dir = Path(out_dir)
    faces = model.faces.numpy()
    asset = None
    if sol.object_id:
        from hoi_perception.assets import object_library

        asset = object_library().get(sol.object_id)
    solved = np.nonzero(sol.solved)[0]
    w, h = ev.image_size
    side = SideView(to_world(sol.joints[solved].reshape(-1, 3), sol.world_from_camera))
    over = open_writer(out_dir / "overlay.mp4", ev.fps, (w, h))
    sidew = open_writer(out_dir / "side.mp4", ev.fps, (side.size, side.size))
    try:
        verts: dict[int, np.ndarray] = {}
        for t in range(ev.num_frames):
            img = read_frame(out_dir, t)
            if sol.solved[t]:
                if t not in verts:
                    chunk = [u for u in solved if u >= t][:batch]
                    verts = dict(zip(chunk, body_vertices(model, sol, chunk)))
                v = verts[t]
                obj = None
                if asset is not None and sol.object_valid[t]:
                    obj = object_points(sol, t, asset.vertices)
                    draw_mesh(img, project(obj, ev.camera), obj[:, 2], asset.faces, OBJECT_COLOUR, 0.6)
                draw_mesh(img, project(v, ev.camera), v[:, 2], faces, BODY_COLOUR, 0.5)
                wv = to_world(v, sol.world_from_camera)
                wo = None if obj is None else to_world(obj, sol.world_from_camera)
                sidew.write(side.frame(wv, faces, wo, None if asset is None else asset.faces, f"side view, frame {t}"))
            else:
                cv2.putText(img, "not solved (no person / cut)", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 255), 2)
            over.write(img)
    finally:
        over.release()
        sidew.release()
    return [out_dir / "overlay.mp4", out_dir / "side.mp4"]
