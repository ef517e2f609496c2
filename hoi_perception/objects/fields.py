"""Volumetric fields of an object in its canonical frame: occupancy voxels and a signed distance grid.

The occupancy grid (64^3 in a cube around the object) is the 3D target of the hand-object model
(ForeHOI's voxel branch). The signed distance grid answers "how far is this body vertex from the
object surface, and is it inside?" thousands of times per sample, which exact point-to-triangle
queries cannot do fast enough; exact distances are computed only near the 5 cm contact threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy import ndimage


@dataclass(frozen=True)
class VoxelGrid:
    """Boolean occupancy on a cube: voxel (i,j,k) centre = origin + (i,j,k + 0.5) * pitch."""

    occupancy: np.ndarray  # (R,R,R) bool
    origin: np.ndarray  # (3,) corner of the cube, object frame, metres
    pitch: float

    def centres(self) -> np.ndarray:
        r = self.occupancy.shape[0]
        idx = (np.arange(r) + 0.5) * self.pitch
        g = np.stack(np.meshgrid(idx, idx, idx, indexing="ij"), axis=-1)
        return g.reshape(-1, 3) + self.origin


@dataclass(frozen=True)
class SignedDistanceGrid:
    """Signed distance (negative inside) sampled at voxel centres, trilinear in between."""

    sdf: np.ndarray  # (R,R,R) float32
    origin: np.ndarray
    pitch: float

    def query(self, points: np.ndarray) -> np.ndarray:
        """Signed distance at object-frame points. Outside the grid it is a lower bound of the
        true distance (distance to the grid box plus the boundary value), never negative."""
        points = np.asarray(points, dtype=np.float64)
        r = self.sdf.shape[0]
        coords = (points - self.origin) / self.pitch - 0.5
        clipped = np.clip(coords, 0.0, r - 1.0)
        inside_value = ndimage.map_coordinates(self.sdf, clipped.T, order=1, mode="nearest")
        outside = np.linalg.norm((coords - clipped) * self.pitch, axis=1)
        return np.where(outside > 0, np.maximum(inside_value, 0.0) + outside, inside_value).astype(np.float32)


def cube_around(mesh: trimesh.Trimesh, margin: float) -> tuple[np.ndarray, float]:
    """Origin and edge length of an axis-aligned cube centred on the mesh bounds, padded."""
    lo, hi = mesh.bounds
    centre = 0.5 * (lo + hi)
    edge = float(np.max(hi - lo)) + 2.0 * margin
    return centre - edge / 2.0, edge


def solid_occupancy(mesh: trimesh.Trimesh, origin: np.ndarray, edge: float, resolution: int) -> np.ndarray:
    """Solid occupancy of a (possibly not watertight) mesh on a cube grid.

    Surface voxels come from dense surface samples; the interior is every voxel not reachable
    from the cube border, so small holes in scanned meshes do not leak at voxel resolution.
    """
    pitch = edge / resolution
    # Sample densely enough that every surface voxel receives a point (>= ~4 per voxel face).
    n = int(max(20000, 8.0 * mesh.area / (pitch * pitch)))
    pts, _ = trimesh.sample.sample_surface_even(mesh, n, seed=0) if hasattr(trimesh.sample, "sample_surface_even") else trimesh.sample.sample_surface(mesh, n)
    pts = np.concatenate([pts, mesh.vertices])
    ijk = np.floor((pts - origin) / pitch).astype(np.int64)
    ijk = ijk[np.all((ijk >= 0) & (ijk < resolution), axis=1)]
    shell = np.zeros((resolution,) * 3, dtype=bool)
    shell[ijk[:, 0], ijk[:, 1], ijk[:, 2]] = True
    shell = ndimage.binary_closing(shell, iterations=1) | shell
    return ndimage.binary_fill_holes(shell)


def occupancy_voxels(mesh: trimesh.Trimesh, resolution: int = 64, margin_ratio: float = 0.02) -> VoxelGrid:
    """The label grid: a cube just enclosing the object (2 % padding), `resolution`^3 voxels."""
    lo, hi = mesh.bounds
    margin = margin_ratio * float(np.max(hi - lo))
    origin, edge = cube_around(mesh, margin)
    occ = solid_occupancy(mesh, origin, edge, resolution)
    return VoxelGrid(occupancy=occ, origin=origin, pitch=edge / resolution)


def signed_distance_grid(mesh: trimesh.Trimesh, resolution: int = 96, margin: float = 0.08) -> SignedDistanceGrid:
    """SDF on a cube padded by `margin` (beyond the 5 cm contact threshold), from distance
    transforms of the solid occupancy; its error is below one voxel pitch."""
    origin, edge = cube_around(mesh, margin)
    pitch = edge / resolution
    occ = solid_occupancy(mesh, origin, edge, resolution)
    # Distance of each voxel centre to the nearest voxel of the other kind, shifted by half a
    # voxel so the zero level sits on the boundary between inside and outside voxels.
    outside = ndimage.distance_transform_edt(~occ) - 0.5
    inside = ndimage.distance_transform_edt(occ) - 0.5
    sdf = np.where(occ, -inside, outside) * pitch
    return SignedDistanceGrid(sdf=sdf.astype(np.float32), origin=origin, pitch=pitch)
