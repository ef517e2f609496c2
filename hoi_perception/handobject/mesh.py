"""Occupancy -> metric object mesh (marching cubes, scikit-image), and mesh silhouettes."""
from __future__ import annotations

import cv2
import numpy as np

from hoi_perception.raster import fill_triangles, pinhole_project

from .encoding import GRID_SIDE


class EmptyShapeError(ValueError):
    """The occupancy has no voxel above the level: there is no surface to extract."""


def occupancy_to_mesh(prob: np.ndarray, level: float = 0.5, side: float = GRID_SIDE,
                      largest_component: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(R, R, R) occupancy probabilities on the aligned grid -> (vertices (V, 3) metres, faces (F, 3)).

    The grid is indexed [x, y, z]; voxel centre i -> -side/2 + (i + 0.5) * side / R. Keeps the
    largest connected component (stray blobs are not the object). Raises EmptyShapeError."""
    from scipy import ndimage
    from skimage.measure import marching_cubes

    prob = np.asarray(prob, np.float32)
    res = prob.shape[0]
    occ = prob > level
    if not occ.any():
        raise EmptyShapeError(f"no voxel of the predicted occupancy exceeds {level} (max {float(prob.max()):.3f})")
    if largest_component:
        lab, n = ndimage.label(occ)
        if n > 1:
            sizes = ndimage.sum(np.ones_like(lab), lab, index=np.arange(1, n + 1))
            keep = lab == (1 + int(np.argmax(sizes)))
            prob = np.where(keep | ~occ, prob, np.minimum(prob, level * 0.5))
    pitch = side / res
    padded = np.pad(prob, 1, constant_values=0.0)  # closed surface even where the shape touches the cube
    verts, faces, _, _ = marching_cubes(padded, level=level, spacing=(pitch, pitch, pitch))
    verts = verts - pitch + (-side / 2 + 0.5 * pitch)
    return verts.astype(np.float32), faces.astype(np.int64)


def silhouette(verts_cam: np.ndarray, faces: np.ndarray, k: np.ndarray, width: int, height: int) -> np.ndarray:
    """Binary silhouette of a closed mesh in camera coordinates.

    Marching-cubes vertices are spaced at most one voxel apart on the surface, and every ray through
    a closed surface's silhouette meets the surface, so splatting the projected vertices (plus a 3x3
    closing) gives the silhouette in O(V) at the mask resolutions used here. Meshes with sparse
    vertices (projected spacing above ~2 px) need `silhouette_triangles`."""
    uv = pinhole_project(verts_cam, k)
    img = np.zeros((height, width), np.uint8)
    ok = np.isfinite(uv).all(1) & (verts_cam[:, 2] > 1e-3)
    ij = np.round(uv[ok]).astype(np.int64)
    ij = ij[(ij[:, 0] >= 0) & (ij[:, 0] < width) & (ij[:, 1] >= 0) & (ij[:, 1] < height)]
    img[ij[:, 1], ij[:, 0]] = 1
    img = cv2.morphologyEx(img, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    return img.astype(bool)


def silhouette_triangles(verts_cam: np.ndarray, faces: np.ndarray, k: np.ndarray, width: int, height: int) -> np.ndarray:
    """Exact silhouette by filling every projected triangle (OpenCV); for full-resolution overlays."""
    tri = pinhole_project(verts_cam, k)[faces]
    ok = np.isfinite(tri).all((1, 2))
    lim = 4 * max(width, height)
    ok &= (np.abs(np.nan_to_num(tri, nan=1e9)) < lim).all((1, 2))
    ok &= (verts_cam[faces, 2] > 1e-3).all(1)
    return fill_triangles(tri[ok], (height, width), shift=2)  # 2 bits of sub-pixel precision
