"""pinhole_project; fill_triangles: a closed mesh of few large triangles fills its whole silhouette (no even-odd holes)."""
from __future__ import annotations

import cv2
import numpy as np
import trimesh

from hoi_perception import raster
from hoi_perception.raster import fill_triangles


def _projected_box():
    box = trimesh.creation.box(extents=(0.2, 0.12, 0.08))
    r = trimesh.transformations.rotation_matrix(0.4, [0.3, 1.0, 0.2])[:3, :3]
    v = box.vertices @ r.T + [0.0, 0.0, 0.6]
    uv = raster.pinhole_project(v, np.array([[120.0, 0, 64], [0, 120.0, 48], [0, 0, 1]]))
    return uv, box.faces


def test_a_box_fills_its_convex_outline():
    uv, faces = _projected_box()
    mask = fill_triangles(uv[faces], (96, 128))
    hull = np.zeros((96, 128), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(uv).astype(np.int32)), 1)
    assert (mask & (hull > 0)).sum() / (mask | (hull > 0)).sum() > 0.97
    # filling all triangles in one fillPoly call is what this replaces: it leaves holes here
    at_once = np.zeros((96, 128), np.uint8)
    cv2.fillPoly(at_once, list(np.round(uv[faces]).astype(np.int32)), 1)
    assert at_once.sum() < 0.8 * mask.sum()


def test_sub_pixel_shift_gives_the_same_silhouette():
    uv, faces = _projected_box()
    a, b = fill_triangles(uv[faces], (96, 128)), fill_triangles(uv[faces], (96, 128), shift=2)
    assert (a & b).sum() / (a | b).sum() > 0.93


def test_pinhole_projection_in_front_behind_and_clamped():
    k = np.array([[100.0, 0, 32], [0, 120.0, 24], [0, 0, 1]])
    pts = np.array([[0.1, -0.2, 2.0], [0.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    uv = raster.pinhole_project(pts, k)
    assert np.allclose(uv[0], [32 + 100 * 0.05, 24 - 120 * 0.1])
    # at or behind the camera: NaN for drawing and scoring
    assert np.isnan(uv[1:]).all()
    # clamped: every point finite, the ones nearer than min_depth projected as if at min_depth
    uvc = raster.pinhole_project(pts, k, min_depth=1e-3)
    assert np.isfinite(uvc).all()
    assert np.allclose(uvc[0], uv[0])
    assert np.allclose(uvc[2], [32 + 100 * 0.5 / 1e-3, 24 + 120 * 0.5 / 1e-3])
