"""The two videos a person looks at: the solved body and object drawn over each frame (overlay.mp4),
and the same motion in the world frame seen from the side with the ground line (side.mp4), at one
fixed scale for the whole clip so travel and floating show. Drawn with OpenCV (painter's algorithm,
far faces first), no GL context needed.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

BODY_COLOUR = (200, 120, 60)  # BGR
OBJECT_COLOUR = (60, 170, 60)
SIDE_SIZE = 480


def draw_mesh(canvas: np.ndarray, uv: np.ndarray, depth: np.ndarray, faces: np.ndarray, colour, alpha: float) -> None:
    """Fill the faces far to near into ``canvas`` (in place), shaded by which side faces the viewer."""
    tri = uv[faces]
    ok = np.isfinite(tri).all((1, 2))
    tri, order_depth = tri[ok], depth[faces][ok].mean(1)
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    facing = (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]) > 0
    layer = canvas.copy()
    pts = np.round(tri * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    for i in np.argsort(-order_depth):
        shade = 1.0 if facing[i] else 0.6
        cv2.fillConvexPoly(layer, pts[i], [int(c * shade) for c in colour], lineType=cv2.LINE_8, shift=2)
    cv2.addWeighted(layer, alpha, canvas, 1 - alpha, 0, dst=canvas)


def project(points: np.ndarray, k: np.ndarray) -> np.ndarray:
    z = np.where(points[:, 2] > 1e-3, points[:, 2], np.nan)
    return np.stack([k[0, 0] * points[:, 0] / z + k[0, 2], k[1, 1] * points[:, 1] / z + k[1, 2]], 1)


class SideView:
    """World-frame side view (looking along +y of the world, x to the right, z up) at a scale fixed
    by the clip's extent."""

    def __init__(self, world_points: np.ndarray, size: int = SIDE_SIZE) -> None:
        lo, hi = np.nanmin(world_points, 0), np.nanmax(world_points, 0)
        lo[2] = min(lo[2], 0.0)
        span = max(hi[0] - lo[0], hi[2] - lo[2], 0.5) * 1.2
        self.size, self.s = size, size / span
        self.cx, self.cz = 0.5 * (lo[0] + hi[0]), 0.5 * (lo[2] + hi[2])

    def uv(self, p: np.ndarray) -> np.ndarray:
        return np.stack([(p[:, 0] - self.cx) * self.s + self.size / 2, (self.cz - p[:, 2]) * self.s + self.size / 2], 1)

    def frame(self, body: np.ndarray, faces, obj: np.ndarray | None, obj_faces, text: str) -> np.ndarray:
        canvas = np.full((self.size, self.size, 3), 255, np.uint8)
        g = round(self.uv(np.zeros((1, 3)))[0, 1])
        cv2.line(canvas, (0, g), (self.size - 1, g), (90, 90, 90), 2)
        draw_mesh(canvas, self.uv(body), body[:, 1], faces, BODY_COLOUR, 1.0)
        if obj is not None:
            draw_mesh(canvas, self.uv(obj), obj[:, 1], obj_faces, OBJECT_COLOUR, 1.0)
        cv2.putText(canvas, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
        return canvas


def open_writer(path: Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), max(fps, 1.0), size)
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV cannot write mp4 here")
    return writer
