"""`ObjectAsset`: one rigid object in its canonical frame, with everything the data engine and the
metrics need (surface samples, keypoints, symmetry, a fixed 64-vertex subset, size, nominal mass).

Canonical frame rule (every source): the origin is the centre of the axis-aligned bounding box;
the axes are the source's own axes (YCB models are already z-up and aligned with their box faces;
procedural shapes are built z-up), unless the caller asks for principal-axis alignment (user
meshes, ``align="principal"``). ``source_from_canonical`` maps canonical points back to the file's
frame so that poses from datasets that use the original YCB frame (HO3D, DexYCB) can be converted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from .symmetry import symmetry_rotations, validate_symmetry

N_SURFACE_POINTS = 2048
N_SUBSET = 64  # CrossHOI-style networks use 64 object vertices
SURFACE_SEED = 0
DEFAULT_DENSITY = 500.0  # kg/m^3, a nominal density for mixed household objects

# Order of the 9 keypoints: bbox corners with (x, y, z) sign bits (-,-,-), (+,-,-), (-,+,-),
# (+,+,-), (-,-,+), (+,-,+), (-,+,+), (+,+,+), then the centroid (centre of mass or area centroid).
KEYPOINT_NAMES = tuple(
    [f"corner_{'+' if i & 1 else '-'}x{'+' if i & 2 else '-'}y{'+' if i & 4 else '-'}z" for i in range(8)]
    + ["centroid"])


@dataclass
class ObjectAsset:
    id: str
    name: str
    source: str  # "ycb" | "procedural" | "user"
    mesh: trimesh.Trimesh  # metres, canonical frame
    surface_points: np.ndarray  # (N,3) float32, uniform on the surface, seed SURFACE_SEED
    surface_normals: np.ndarray  # (N,3) float32, face normals at surface_points
    keypoints: np.ndarray  # (9,3) float32, see KEYPOINT_NAMES
    symmetry: str
    symmetry_rotations: np.ndarray  # (K,3,3), identity first
    subset_indices: np.ndarray  # (64,) int64 indices into mesh.vertices (farthest point sampling)
    extents: np.ndarray  # (3,) bbox side lengths, metres
    diameter: float  # largest distance between two vertices, metres
    volume: float  # m^3 (watertight volume, else convex hull volume; see mass_source)
    mass: float  # kg, nominal
    mass_source: str  # "watertight" | "convex_hull"
    source_from_canonical: np.ndarray = field(default_factory=lambda: np.eye(4))
    grasp: dict = field(default_factory=dict)  # e.g. handle_segment (2,3), handle_radius, handle_vertex_mask
    params: dict = field(default_factory=dict)  # generator parameters (procedural) or file path

    @property
    def subset_vertices(self) -> np.ndarray:
        """(64,3) float32 canonical coordinates of the fixed vertex subset."""
        return np.asarray(self.mesh.vertices[self.subset_indices], dtype=np.float32)

    @property
    def vertices(self) -> np.ndarray:
        return np.asarray(self.mesh.vertices, dtype=np.float32)

    @property
    def faces(self) -> np.ndarray:
        return np.asarray(self.mesh.faces, dtype=np.int64)


def farthest_point_sampling(points: np.ndarray, k: int, start: int | None = None) -> np.ndarray:
    """Indices of k points chosen greedily to be far apart. Deterministic: starts at the point
    farthest from the centroid unless ``start`` is given."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) < k:
        raise ValueError(f"farthest point sampling needs >= {k} points, got {len(pts)}")
    if start is None:
        start = int(np.argmax(np.linalg.norm(pts - pts.mean(0), axis=1)))
    idx = np.empty(k, dtype=np.int64)
    idx[0] = start
    dist = np.linalg.norm(pts - pts[start], axis=1)
    for i in range(1, k):
        idx[i] = int(np.argmax(dist))
        dist = np.minimum(dist, np.linalg.norm(pts - pts[idx[i]], axis=1))
    return idx


def principal_axes_rotation(mesh: trimesh.Trimesh) -> np.ndarray:
    """3x3 rotation whose rows are the principal axes (largest extent first, right-handed)."""
    pts = np.asarray(mesh.vertices, dtype=np.float64)
    cov = np.cov((pts - pts.mean(0)).T)
    _, vecs = np.linalg.eigh(cov)
    axes = vecs[:, ::-1].T.copy()  # rows, descending variance
    # Deterministic sign: make the third moment along each axis non-negative.
    for i in range(2):
        proj = (pts - pts.mean(0)) @ axes[i]
        if np.sum(proj ** 3) < 0:
            axes[i] = -axes[i]
    axes[2] = np.cross(axes[0], axes[1])
    return axes


def make_asset(obj_id: str, name: str, source: str, mesh: trimesh.Trimesh, *,
               symmetry: str = "none", density: float = DEFAULT_DENSITY,
               source_from_input: np.ndarray | None = None, grasp: dict | None = None,
               params: dict | None = None, handle_vertex_mask: np.ndarray | None = None) -> ObjectAsset:
    """Centre ``mesh`` on its bbox centre and derive every field of an ObjectAsset.

    ``source_from_input`` maps the given mesh's frame to the original file frame (identity when the
    mesh is in the file frame). ``grasp`` coordinates are given in the input mesh frame and are
    moved into the canonical frame here.
    """
    validate_symmetry(symmetry)
    mesh = mesh.copy()
    while len(mesh.vertices) < N_SUBSET:  # e.g. an 8-vertex box: subdividing keeps the shape exactly
        mesh = mesh.subdivide()
    centre = mesh.bounds.mean(axis=0)
    mesh.apply_translation(-centre)
    canon_to_input = np.eye(4)
    canon_to_input[:3, 3] = centre
    src = np.eye(4) if source_from_input is None else np.asarray(source_from_input, dtype=np.float64)
    source_from_canonical = src @ canon_to_input

    # Fixed seed: surface samples (and so the 64-subset) are identical in every process.
    pts, face_idx = trimesh.sample.sample_surface(mesh, N_SURFACE_POINTS, seed=SURFACE_SEED)
    normals = mesh.face_normals[face_idx]

    lo, hi = mesh.bounds
    corners = np.array([[hi[0] if i & 1 else lo[0], hi[1] if i & 2 else lo[1], hi[2] if i & 4 else lo[2]]
                        for i in range(8)])
    if mesh.is_watertight and mesh.volume > 0:
        volume, mass_source = float(mesh.volume), "watertight"
        centroid = np.asarray(mesh.center_mass)
    else:
        volume, mass_source = float(mesh.convex_hull.volume), "convex_hull"
        centroid = np.asarray(mesh.centroid)
    keypoints = np.vstack([corners, centroid[None]])

    hull = mesh.convex_hull.vertices
    diff = hull[:, None, :] - hull[None, :, :]
    diameter = float(np.sqrt((diff ** 2).sum(-1)).max())

    grasp = dict(grasp or {})
    for key in ("handle_segment", "handle_path"):  # points: move into the canonical frame
        if key in grasp:
            grasp[key] = np.asarray(grasp[key], dtype=np.float64) - centre
    if handle_vertex_mask is not None:
        grasp["handle_vertex_mask"] = np.asarray(handle_vertex_mask, dtype=bool)
        grasp["handle_point_mask"] = grasp["handle_vertex_mask"][mesh.faces[face_idx]].all(axis=1)

    return ObjectAsset(
        id=obj_id, name=name, source=source, mesh=mesh,
        surface_points=pts.astype(np.float32), surface_normals=normals.astype(np.float32),
        keypoints=keypoints.astype(np.float32), symmetry=symmetry,
        symmetry_rotations=symmetry_rotations(symmetry),
        subset_indices=farthest_point_sampling(mesh.vertices, N_SUBSET),
        extents=np.asarray(mesh.extents, dtype=np.float64), diameter=diameter,
        volume=volume, mass=float(density * volume), mass_source=mass_source,
        source_from_canonical=source_from_canonical, grasp=grasp, params=dict(params or {}))
