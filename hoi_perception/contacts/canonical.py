"""The canvases contacts are painted on (paper 003's render step), and the maps that lift them back.

Body: anny at mid shape in a star pose (arms raised, legs apart: few surfaces hide others), seen by
`BODY_VIEWS` orthographic cameras, each pixel coloured by the surface normal (in the view's frame) and
holding the triangle it sees with barycentric weights. Object: the template's surface points scaled into
the unit sphere, coloured by their normalised object coordinates (NOCS) and splatted, each pixel holding
the template subset vertex (`ObjectAsset.subset_vertices`, the 64 points the contact labels live on)
nearest the point it sees.

Lifting (`LiftTable`): every vertex takes the weighted mean of the pixels that see it over all views
(barycentric weights for the body, equal weights for the object); a vertex no view sees takes the
table row of the nearest vertex that is seen. A fixed-width gather, so the lift is two array ops and
exports to ONNX unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BODY_SIZE = 128
OBJECT_SIZE = 64
# (azimuth, elevation) in degrees about the body's up axis (REP 103 body frame: x forward, y left, z up):
# front, back, and two diagonals from above and below so that the flanks, soles and armpits are seen
# (of the ones tried, the most vertices seen directly: 49 % at 128 px, the rest are fingers and face)
BODY_VIEWS = ((0.0, 0.0), (180.0, 0.0), (45.0, 50.0), (225.0, -40.0))
OBJECT_VIEWS = ((45.0, 30.0), (135.0, -30.0), (225.0, 30.0), (315.0, -30.0))
BODY_LIFT_WIDTH = 8
OBJECT_LIFT_WIDTH = 32
# star pose: local axis-angle rotations (radians) of anny's pose joints, about the body frame's x axis
STAR_POSE = {"left_shoulder": (0.75, 0.0, 0.0), "right_shoulder": (-0.75, 0.0, 0.0),
             "left_hip": (0.3, 0.0, 0.0), "right_hip": (-0.3, 0.0, 0.0)}


def view_axes(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """(3, 3) rows: the view's right, up and toward-the-camera axes in the body frame."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    toward = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    right = np.cross(-toward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, -toward)
    return np.stack([right, up, toward])


def camera_codes(views) -> np.ndarray:
    """(J, 9) the views' axes flattened: what FeatLift sees of each camera."""
    return np.stack([view_axes(a, e).ravel() for a, e in views]).astype(np.float32)


def _to_pixels(points: np.ndarray, axes: np.ndarray, centre: np.ndarray, half_width: float, size: int):
    """Orthographic projection: (N, 3) -> pixel x, y (pixel i covers [i, i+1)) and nearness (larger = nearer)."""
    q = (points - centre) @ axes.T
    scale = size / (2.0 * half_width)
    return q[:, 0] * scale + size / 2.0, -q[:, 1] * scale + size / 2.0, q[:, 2]


def rasterize(vertices: np.ndarray, faces: np.ndarray, axes: np.ndarray, centre: np.ndarray, half_width: float,
              size: int) -> tuple[np.ndarray, np.ndarray]:
    """Z-buffered orthographic triangle raster: per pixel the nearest face (-1: none) and its barycentric
    weights (size, size, 3). Each face tests the pixel centres in its bounding box (vectorised)."""
    x, y, z = _to_pixels(vertices, axes, centre, half_width, size)
    tx, ty, tz = x[faces], y[faces], z[faces]  # (F, 3)
    x0 = np.floor(tx.min(1) - 0.5).astype(int)
    y0 = np.floor(ty.min(1) - 0.5).astype(int)
    k = int(np.ceil(max((tx.max(1) - tx.min(1)).max(), (ty.max(1) - ty.min(1)).max()))) + 2
    off = np.arange(k)
    px = (x0[:, None, None] + off[None, None, :]) + np.zeros((1, k, 1), int)  # (F, k, k)
    py = (y0[:, None, None] + off[None, :, None]) + np.zeros((1, 1, k), int)
    cx, cy = px + 0.5, py + 0.5
    ax, ay = tx[:, 0, None, None], ty[:, 0, None, None]
    e1x, e1y = (tx[:, 1] - tx[:, 0])[:, None, None], (ty[:, 1] - ty[:, 0])[:, None, None]
    e2x, e2y = (tx[:, 2] - tx[:, 0])[:, None, None], (ty[:, 2] - ty[:, 0])[:, None, None]
    det = e1x * e2y - e2x * e1y
    ok_det = np.abs(det) > 1e-12
    det = np.where(ok_det, det, 1.0)
    b1 = ((cx - ax) * e2y - e2x * (cy - ay)) / det
    b2 = (e1x * (cy - ay) - (cx - ax) * e1y) / det
    b0 = 1.0 - b1 - b2
    inside = ok_det & (b0 >= -1e-9) & (b1 >= -1e-9) & (b2 >= -1e-9) & (px >= 0) & (px < size) & (py >= 0) & (py < size)
    f_idx, i, j = np.nonzero(inside)
    bary = np.stack([b0[f_idx, i, j], b1[f_idx, i, j], b2[f_idx, i, j]], 1)
    depth = (bary * tz[f_idx]).sum(1)
    pix = py[f_idx, i, j] * size + px[f_idx, i, j]
    order = np.lexsort((-depth, pix))  # per pixel, nearest first
    pix, f_idx, bary = pix[order], f_idx[order], bary[order]
    first = np.ones(len(pix), bool)
    first[1:] = pix[1:] != pix[:-1]
    face = np.full(size * size, -1, np.int64)
    weights = np.zeros((size * size, 3))
    face[pix[first]] = f_idx[first]
    weights[pix[first]] = bary[first]
    return face.reshape(size, size), weights.reshape(size, size, 3)


def splat(points: np.ndarray, axes: np.ndarray, size: int, radius: int = 1) -> np.ndarray:
    """Z-buffered point splats of unit-sphere points: per pixel the index of the nearest point covering it
    (-1: none); each point covers the (2 radius + 1)^2 pixels about its own."""
    x, y, z = _to_pixels(points, axes, np.zeros(3), 1.0, size)
    ix, iy = np.floor(x).astype(int), np.floor(y).astype(int)
    d = np.arange(-radius, radius + 1)
    px = (ix[:, None, None] + d[None, None, :]).repeat(len(d), 1)
    py = (iy[:, None, None] + d[None, :, None]).repeat(len(d), 2)
    n = np.broadcast_to(np.arange(len(points))[:, None, None], px.shape)
    ok = (px >= 0) & (px < size) & (py >= 0) & (py < size)
    pix, who = (py * size + px)[ok], n[ok]
    order = np.lexsort((-z[who], pix))
    pix, who = pix[order], who[order]
    first = np.ones(len(pix), bool)
    first[1:] = pix[1:] != pix[:-1]
    out = np.full(size * size, -1, np.int64)
    out[pix[first]] = who[first]
    return out.reshape(size, size)


@dataclass
class LiftTable:
    """Per vertex, the flat pixel indices (over all views, view-major) and weights it averages."""
    index: np.ndarray   # (V, W) int64
    weight: np.ndarray  # (V, W) float32, rows sum to 1
    seen: np.ndarray    # (V,) bool: some view sees the vertex itself

    def lift(self, pixels: np.ndarray) -> np.ndarray:
        """(..., J * S * S) per-pixel values -> (..., V) per-vertex means (numpy; the network has its own)."""
        return (pixels[..., self.index] * self.weight).sum(-1)


def lift_table(n_vertices: int, vertex: np.ndarray, pixel: np.ndarray, weight: np.ndarray, rest: np.ndarray,
               width: int) -> LiftTable:
    """From (vertex, flat pixel, weight) contributions: the `width` largest per vertex, normalised; vertices
    without any take the row of the nearest vertex (by `rest` position) that has one."""
    keep = weight > 1e-6
    vertex, pixel, weight = vertex[keep], pixel[keep], weight[keep]
    order = np.lexsort((-weight, vertex))
    vertex, pixel, weight = vertex[order], pixel[order], weight[order]
    starts = np.searchsorted(vertex, np.arange(n_vertices))
    rank = np.arange(len(vertex)) - starts[vertex]
    sel = rank < width
    index = np.zeros((n_vertices, width), np.int64)
    w = np.zeros((n_vertices, width), np.float64)
    index[vertex[sel], rank[sel]] = pixel[sel]
    w[vertex[sel], rank[sel]] = weight[sel]
    seen = w.sum(1) > 0
    if not seen.any():
        raise ValueError("no view sees any vertex")
    if not seen.all():
        from scipy.spatial import cKDTree

        _, nearest = cKDTree(rest[seen]).query(rest[~seen])
        src = np.flatnonzero(seen)[nearest]
        index[~seen], w[~seen] = index[src], w[src]
    w /= w.sum(1, keepdims=True)
    return LiftTable(index, w.astype(np.float32), seen)


@dataclass
class Canvas:
    """One geometry's renders and lift: images (J, 4, S, S) = colour (3) and coverage (1)."""
    images: np.ndarray
    cameras: np.ndarray       # (J, 9) camera_codes
    pixel_owner: np.ndarray   # (J, S, S, 3) int64: the vertices each pixel mixes (-1: background)
    pixel_weight: np.ndarray  # (J, S, S, 3) float32: their weights
    lift: LiftTable

    def paint(self, labels: np.ndarray) -> np.ndarray:
        """Per-vertex values (..., V) -> per-pixel values (..., J, S, S) (0 on the background): the 2D targets."""
        lab = np.asarray(labels, np.float32)
        owner = np.maximum(self.pixel_owner, 0)
        return (lab[..., owner] * self.pixel_weight).sum(-1)


def star_body(model=None) -> tuple[np.ndarray, np.ndarray]:
    """anny's full mesh at mid shape in the star pose (body frame, metres) and its faces."""
    import torch

    if model is None:
        from hoi_perception.assets import body_model

        model = body_model()
    params = model.rest_params(1)
    pose = params.pose.clone()
    for name, rot in STAR_POSE.items():
        pose[0, model.pose_joint_names.index(name)] = torch.tensor(rot, dtype=pose.dtype)
    with torch.no_grad():
        out = model(type(params)(params.shape, pose, params.global_orient, params.transl))
    return out.vertices[0].double().numpy(), out.faces.numpy().astype(np.int64)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    fn = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    n = np.zeros_like(vertices)
    for c in range(3):
        np.add.at(n, faces[:, c], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def body_canvas(vertices: np.ndarray, faces: np.ndarray, size: int = BODY_SIZE, views=BODY_VIEWS,
                width: int = BODY_LIFT_WIDTH) -> Canvas:
    """Normal-coloured renders of a (star-pose) body mesh and the barycentric lift back to its vertices."""
    normals = vertex_normals(vertices, faces)
    images = np.zeros((len(views), 4, size, size), np.float32)
    owner = np.full((len(views), size, size, 3), -1, np.int64)
    pw = np.zeros((len(views), size, size, 3), np.float32)
    contrib = []
    for j, (az, el) in enumerate(views):
        axes = view_axes(az, el)
        # each view framed tightly on the body's projection, so that it fills the canvas
        q = vertices @ axes.T
        lo, hi = q.min(0), q.max(0)
        centre = axes.T @ np.array([(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0, 0.0])
        half = 0.51 * float(max(hi[0] - lo[0], hi[1] - lo[1]))
        face, bary = rasterize(vertices, faces, axes, centre, half, size)
        hit = face >= 0
        verts = faces[np.maximum(face, 0)]  # (S, S, 3)
        n_view = (normals[verts] * bary[..., None]).sum(2) @ axes.T
        n_view /= np.maximum(np.linalg.norm(n_view, axis=-1, keepdims=True), 1e-12)
        images[j, :3] = np.where(hit, (n_view.transpose(2, 0, 1) + 1.0) / 2.0, 0.0)
        images[j, 3] = hit
        owner[j][hit], pw[j][hit] = verts[hit], bary[hit]
        ys, xs = np.nonzero(hit)
        flat = j * size * size + ys * size + xs
        for c in range(3):
            contrib.append((verts[ys, xs, c], flat, bary[ys, xs, c]))
    v, p, w = (np.concatenate(x) for x in zip(*contrib))
    return Canvas(images, camera_codes(views), owner, pw, lift_table(len(vertices), v, p, w, vertices, width))


def object_canvas(surface_points: np.ndarray, subset_vertices: np.ndarray, size: int = OBJECT_SIZE,
                  views=OBJECT_VIEWS, width: int = OBJECT_LIFT_WIDTH) -> Canvas:
    """NOCS-coloured splats of a template's surface points (template frame) and the lift to its subset
    vertices: each surface point belongs to its nearest subset vertex."""
    from scipy.spatial import cKDTree

    pts = np.asarray(surface_points, np.float64)
    sub = np.asarray(subset_vertices, np.float64)
    lo, hi = pts.min(0), pts.max(0)
    centre = (lo + hi) / 2.0
    radius = max(float(np.linalg.norm(pts - centre, axis=1).max()), 1e-6) * 1.05
    unit = (pts - centre) / radius
    nocs = (pts - lo) / np.maximum(hi - lo, 1e-6)
    _, belongs = cKDTree(sub).query(pts)
    images = np.zeros((len(views), 4, size, size), np.float32)
    owner = np.full((len(views), size, size, 3), -1, np.int64)
    pw = np.zeros((len(views), size, size, 3), np.float32)
    contrib = []
    for j, (az, el) in enumerate(views):
        who = splat(unit, view_axes(az, el), size)
        hit = who >= 0
        images[j, :3] = np.where(hit, nocs[np.maximum(who, 0)].transpose(2, 0, 1), 0.0)
        images[j, 3] = hit
        owner[j][hit, 0] = belongs[who[hit]]
        pw[j][hit, 0] = 1.0
        ys, xs = np.nonzero(hit)
        contrib.append((belongs[who[ys, xs]], j * size * size + ys * size + xs, np.ones(len(ys))))
    v, p, w = (np.concatenate(x) for x in zip(*contrib))
    return Canvas(images, camera_codes(views), owner, pw, lift_table(len(sub), v, p, w, sub, width))
