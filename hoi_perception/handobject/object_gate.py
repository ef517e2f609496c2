"""Refuse a hand-object result whose object lies on a face.

The network was trained on renders where a hand always holds something, so near skin it finds an
object even when there is none: on real photos of bare hands (a wave, an OK sign, hands framing a face)
its object lands on the face beside the hand. The front end's face keypoints say where faces are; an
object whose projected silhouette covers a face by FACE_SHARE_MAX or more is refused. Real held
objects seen on the phone videos cover a face by at most 0.14 of their silhouette, the bare-hand photos'
blobs by 0.44-1.0 (docs/benchmarks.md#hand-held-object-on-real-photos). Limitation: an object held to the mouth
(eating, drinking from a cup in front of the face) is refused as well.
"""
from __future__ import annotations

import numpy as np

from hoi_perception.raster import fill_triangles, pinhole_project

FACE_KEYPOINTS = ("nose", "left_eye", "right_eye", "mouth_left", "mouth_right", "left_ear", "right_ear")
FACE_SHARE_MAX = 0.4
FACE_RADIUS_SCALE = 1.3  # the face disk reaches this far beyond its farthest visible face keypoint (chin, hair)
MIN_FACE_KEYPOINTS = 3
SILHOUETTE_LONG_SIDE = 256  # pixels: the silhouette is rasterised this coarse, enough for a share


def face_disks(people, min_visibility: float = 0.5) -> list[tuple[np.ndarray, float]]:
    """(centre px, radius px) of each detected person's face with at least MIN_FACE_KEYPOINTS visible."""
    disks = []
    for person in people:
        idx = [person.index(n) for n in FACE_KEYPOINTS if n in person.keypoint_names]
        seen = np.asarray(person.visibility)[idx] > min_visibility
        kp = np.asarray(person.keypoints, np.float64)[idx][seen]
        if len(kp) < MIN_FACE_KEYPOINTS or not np.isfinite(kp).all():
            continue
        centre = kp.mean(0)
        disks.append((centre, float(np.linalg.norm(kp - centre, axis=1).max() * FACE_RADIUS_SCALE)))
    return disks


def silhouette_pixels(vertices: np.ndarray, faces: np.ndarray, k: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(N, 2) image pixels covered by the mesh (camera-frame vertices), sampled on a coarse grid."""
    h, w = shape
    s = SILHOUETTE_LONG_SIDE / max(h, w)
    uv = pinhole_project(vertices, k, 1e-3) * s
    sil = fill_triangles(uv[np.asarray(faces, np.int64)], (int(h * s) + 1, int(w * s) + 1))
    ys, xs = np.nonzero(sil)
    return np.stack([xs, ys], 1) / s


def on_face(pixels: np.ndarray, people) -> tuple[float, str | None]:
    """The largest share of the silhouette on one face, and a reason to refuse it (None: keep)."""
    if len(pixels) == 0:
        return 0.0, None
    share = max((float((np.linalg.norm(pixels - c, axis=1) < r).mean()) for c, r in face_disks(people)), default=0.0)
    if share >= FACE_SHARE_MAX:
        return share, (f"{share:.0%} of the object's silhouette lies on a face (a bare hand by a face, not a held "
                       f"object; refused from {FACE_SHARE_MAX:.0%})")
    return share, None


def newest_object_on_face(clip, people, k: np.ndarray, shape: tuple[int, int]) -> tuple[float, str | None]:
    """`on_face` for a hand-object clip's newest frame: its mesh posed there, projected with ``k``
    into an image of ``shape``."""
    pose = clip.poses[-1]
    posed = clip.vertices @ pose[:3, :3].T + pose[:3, 3]
    return on_face(silhouette_pixels(posed, clip.faces, k, shape), people)
