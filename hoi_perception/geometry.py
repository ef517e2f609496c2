"""Geometry shared by inference, fitting, metrics and training; nothing else writes these again.

Rotations: axis-angle (..., 3), the 6D representation of Zhou et al. (..., 6) = the first two
*columns* of the matrix [R[:, 0], R[:, 1]], and matrices (..., 3, 3); torch versions (differentiable,
batched) and numpy versions (``*_np``) of the conversions inference needs on arrays. Quaternions are
(x, y, z, w) as in ROS messages. Alignment: rigid (Kabsch) and similarity (Umeyama) fits of
corresponding points. Meshes: uniform surface sampling and exact point-to-triangle-mesh distance.
Units are whatever the inputs carry (metres in this project).
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree

__all__ = [
    "axis_angle_to_matrix", "rot6d_to_matrix", "matrix_to_rot6d", "matrix_to_axis_angle", "to_matrix",
    "rot6d_to_matrix_np", "matrix_to_rot6d_np", "axis_angle_to_matrix_np", "quaternion_xyzw", "rotation_between",
    "as_points", "rigid_fit", "similarity_transform", "apply_similarity",
    "sample_surface", "closest_point_on_triangles", "point_mesh_distance", "project_points",
]


# --- cameras (torch) ---------------------------------------------------------------------------
def project_points(points: torch.Tensor, k: torch.Tensor, min_depth: float = 1e-3) -> torch.Tensor:
    """(..., N, 3) camera optical-frame points -> (..., N, 2) pixels through a (..., 3, 3) pinhole
    matrix; depth clamped at ``min_depth`` so points behind the camera stay finite."""
    z = points[..., 2:3].clamp(min=min_depth)
    xy = points[..., :2] / z
    fx, fy = k[..., 0, 0, None], k[..., 1, 1, None]
    cx, cy = k[..., 0, 2, None], k[..., 1, 2, None]
    return torch.stack([fx * xy[..., 0] + cx, fy * xy[..., 1] + cy], -1)


# --- rotations (torch) -------------------------------------------------------------------------
def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis-angle -> (..., 3, 3); smooth (and differentiable) at zero."""
    theta2 = (rotvec * rotvec).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    small = theta2 < 1e-8
    safe2 = torch.where(small, torch.ones_like(theta2), theta2)
    theta = torch.sqrt(safe2)
    # Taylor expansions below 1e-4 rad keep the gradient finite at the rest pose.
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / safe2)
    x, y, z = rotvec.unbind(-1)
    zero = torch.zeros_like(x)
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(rotvec.shape + (3,))
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device).expand_as(k)
    return eye + a * k + b * (k @ k)


def rot6d_to_matrix(rot6d: torch.Tensor) -> torch.Tensor:
    """(..., 6) = [first column, second column] -> (..., 3, 3) by Gram-Schmidt."""
    a1, a2 = rot6d[..., :3], rot6d[..., 3:]
    b1 = torch.nn.functional.normalize(a1, dim=-1, eps=1e-8)
    b2 = torch.nn.functional.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=1e-8)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_rot6d(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6), the inverse of :func:`rot6d_to_matrix` on rotations."""
    return torch.cat([matrix[..., :, 0], matrix[..., :, 1]], dim=-1)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 3) axis-angle, angle in [0, pi]."""
    import roma  # anny's own dependency; robust near pi

    return roma.rotmat_to_rotvec(matrix)


def to_matrix(rot: torch.Tensor, what: str = "rotation", batch_dims: int | None = None) -> torch.Tensor:
    """Axis-angle (..., 3), 6D (..., 6) or matrices (..., 3, 3) -> (..., 3, 3).

    Give ``batch_dims`` (the number of leading dimensions, e.g. 1 for (B, 3)) wherever it is
    known: without it a batch of three axis-angle vectors (3, 3) reads as one matrix.
    """
    if batch_dims is None:
        is_matrix = rot.ndim >= 2 and rot.shape[-2:] == (3, 3)
    else:
        is_matrix = rot.ndim == batch_dims + 2
        if rot.ndim not in (batch_dims + 1, batch_dims + 2):
            raise ValueError(f"{what} has {rot.ndim} dimensions, expected {batch_dims + 1} or {batch_dims + 2}")
    if is_matrix:
        if rot.shape[-2:] != (3, 3):
            raise ValueError(f"{what} matrices must be (..., 3, 3), got shape {tuple(rot.shape)}")
        return rot
    if rot.shape[-1] == 3:
        return axis_angle_to_matrix(rot)
    if rot.shape[-1] == 6:
        return rot6d_to_matrix(rot)
    raise ValueError(
        f"{what} must end in 3 (axis-angle), 6 (6D) or (3, 3) (matrix), got shape {tuple(rot.shape)}"
    )



# --- rotations (numpy) ------------------------------------------------------------------------
def rot6d_to_matrix_np(r6: np.ndarray) -> np.ndarray:
    """(..., 6) first two columns -> (..., 3, 3) rotation (Gram-Schmidt)."""
    a1, a2 = r6[..., :3], r6[..., 3:6]
    b1 = a1 / np.maximum(np.linalg.norm(a1, axis=-1, keepdims=True), 1e-8)
    a2 = a2 - (b1 * a2).sum(-1, keepdims=True) * b1
    b2 = a2 / np.maximum(np.linalg.norm(a2, axis=-1, keepdims=True), 1e-8)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], -1)


def matrix_to_rot6d_np(r: np.ndarray) -> np.ndarray:
    return np.concatenate([r[..., :, 0], r[..., :, 1]], -1)


def axis_angle_to_matrix_np(rotvec) -> np.ndarray:
    """(3,) axis-angle -> (3, 3), numpy."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(np.asarray(rotvec, np.float64)).as_matrix()


def rotation_between(u, v) -> np.ndarray:
    """(3, 3) shortest-arc rotation taking direction u to direction v (numpy; 180 degrees about an axis
    perpendicular to u when they are opposite). The data engine's posing uses it too, so its bytes
    depend on this exact arithmetic."""
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u = u / np.linalg.norm(u)
    v = v / np.linalg.norm(v)
    axis = np.cross(u, v)
    s, c = np.linalg.norm(axis), float(np.dot(u, v))
    if s < 1e-9:
        if c > 0:
            return np.eye(3)
        axis = np.cross(u, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(u, [0.0, 1.0, 0.0])
        angle = np.pi
    else:
        angle = np.arctan2(s, c)
    return axis_angle_to_matrix_np(axis / np.linalg.norm(axis) * angle)


def quaternion_xyzw(r: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 4) unit quaternions (x, y, z, w)."""
    from scipy.spatial.transform import Rotation

    r = np.asarray(r, np.float64)
    return Rotation.from_matrix(r.reshape(-1, 3, 3)).as_quat().reshape(r.shape[:-2] + (4,))


# --- alignment ---------------------------------------------------------------------------------
def rigid_fit(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R, t minimising sum |R src + t - dst|^2 over corresponding points (Kabsch, no reflection)."""
    cs, cd = src.mean(0), dst.mean(0)
    u, _, vt = np.linalg.svd((src - cs).T @ (dst - cd))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, cd - r @ cs


def as_points(x, name: str = "points") -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3), got {a.shape}")
    return a


def similarity_transform(pred, gt) -> tuple[float, np.ndarray, np.ndarray]:
    """Procrustes with scale (Umeyama 1991): the (s, R, t) minimising sum ||s R p_i + t - g_i||^2.

    `pred` and `gt` are corresponding (N, 3) point sets. Returns scale s > 0, rotation R (3x3,
    det +1: a reflection is never returned, the smallest singular direction is flipped instead)
    and translation t, so that ``apply_similarity(pred, (s, R, t)) ~= gt``. Same estimator as
    behave-dataset `compute_similarity_transform` and CONTHO `rigid_align`.
    """
    p, g = as_points(pred, "pred"), as_points(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred {p.shape} and gt {g.shape} must correspond point by point")
    mu_p, mu_g = p.mean(0), g.mean(0)
    x, y = p - mu_p, g - mu_g
    var_p = (x ** 2).sum() / len(p)
    if var_p <= 0:
        raise ValueError("pred points are all identical: the similarity transform is undefined")
    cov = y.T @ x / len(p)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # reflection: flip the weakest axis
        d[2] = -1.0
    r = (u * d) @ vt
    s = float((sig * d).sum() / var_p)
    t = mu_g - s * r @ mu_p
    return s, r, t


def apply_similarity(points, transform) -> np.ndarray:
    """Apply (s, R, t) from `similarity_transform` to (N, 3) points."""
    s, r, t = transform
    return s * np.asarray(points, dtype=np.float64) @ np.asarray(r).T + np.asarray(t)


# --- meshes --------------------------------------------------------------------------------------
def sample_surface(vertices, faces, n: int = 6000, seed: int = 0) -> np.ndarray:
    """n points uniformly distributed over the mesh surface (faces chosen by area, then uniform
    barycentric coordinates). 6,000 per mesh as in the BEHAVE challenge and CONTHO."""
    v = as_points(vertices, "vertices")
    f = np.asarray(faces, dtype=np.int64)
    if f.ndim != 2 or f.shape[1] != 3 or len(f) == 0:
        raise ValueError(f"faces must have shape (F, 3) with F > 0, got {f.shape}")
    if n <= 0:
        raise ValueError("n must be positive")
    tri = v[f]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = area.sum()
    if not total > 0:
        raise ValueError("mesh has zero surface area")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(f), size=n, p=area / total)
    u, w = rng.random(n), rng.random(n)
    # Square-root trick: (1 - sqrt(u), sqrt(u)(1 - w), sqrt(u) w) is uniform on a triangle.
    su = np.sqrt(u)
    b0, b1, b2 = 1.0 - su, su * (1.0 - w), su * w
    t = tri[idx]
    return b0[:, None] * t[:, 0] + b1[:, None] * t[:, 1] + b2[:, None] * t[:, 2]


def closest_point_on_triangles(p, a, b, c) -> np.ndarray:
    """Closest point to p[i] on triangle (a[i], b[i], c[i]); all (M, 3). Exact, by Voronoi
    region of the triangle (Ericson, Real-Time Collision Detection, 5.1.5), vectorised."""
    p, a, b, c = (np.asarray(x, dtype=np.float64) for x in (p, a, b, c))
    ab, ac, ap = b - a, c - a, p - a
    d1 = (ab * ap).sum(1)
    d2 = (ac * ap).sum(1)
    bp = p - b
    d3 = (ab * bp).sum(1)
    d4 = (ac * bp).sum(1)
    cp = p - c
    d5 = (ab * cp).sum(1)
    d6 = (ac * cp).sum(1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2

    # Default: interior of the face.
    denom = va + vb + vc
    with np.errstate(divide="ignore", invalid="ignore"):
        v = vb / denom
        w = vc / denom
        out = a + ab * v[:, None] + ac * w[:, None]
        done = np.zeros(len(p), dtype=bool)

        def put(mask, value):
            nonlocal done
            m = mask & ~done
            out[m] = value[m] if value.ndim == 2 else value
            done |= m

        put((d1 <= 0) & (d2 <= 0), a)  # vertex A
        put((d3 >= 0) & (d4 <= d3), b)  # vertex B
        put((d6 >= 0) & (d5 <= d6), c)  # vertex C
        t_ab = d1 / (d1 - d3)
        put((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + ab * t_ab[:, None])  # edge AB
        t_ac = d2 / (d2 - d6)
        put((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + ac * t_ac[:, None])  # edge AC
        t_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
        put((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0), b + (c - b) * t_bc[:, None])  # edge BC
    # Degenerate (zero-area) triangles left NaN: fall back to the nearest of the three vertices.
    bad = ~np.isfinite(out).all(1)
    if bad.any():
        cand = np.stack([a[bad], b[bad], c[bad]], 1)
        k = np.argmin(((cand - p[bad][:, None]) ** 2).sum(-1), 1)
        out[bad] = cand[np.arange(len(k)), k]
    return out


def point_mesh_distance(points, vertices, faces, max_distance: float | None = None,
                        chunk: int = 200_000) -> np.ndarray:
    """Exact distance from each point to the triangle-mesh surface (not just its vertices).

    With `max_distance`, points farther than it get +inf (cheaper: fewer candidate faces).
    Candidate faces are those whose bounding sphere can be within the bound of the point; the
    bound is `max_distance` or, without it, the distance to the nearest vertex (an upper bound on
    the surface distance).
    """
    q = as_points(points, "points")
    v = as_points(vertices, "vertices")
    f = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    tri = v[f]
    centre = tri.mean(1)
    radius = np.linalg.norm(tri - centre[:, None], axis=2).max(1)
    if max_distance is None:
        bound = cKDTree(v).query(q, k=1)[0]
    else:
        bound = np.full(len(q), float(max_distance))
    tree = cKDTree(centre)
    cands = tree.query_ball_point(q, r=bound + radius.max() + 1e-12)
    counts = np.fromiter((len(c) for c in cands), dtype=np.int64, count=len(q))
    out = np.full(len(q), np.inf)
    if counts.sum() == 0:
        return out
    pi = np.repeat(np.arange(len(q)), counts)
    fi = np.fromiter((j for c in cands for j in c), dtype=np.int64, count=int(counts.sum()))
    for s in range(0, len(pi), chunk):
        pp, ff = pi[s:s + chunk], fi[s:s + chunk]
        cp = closest_point_on_triangles(q[pp], tri[ff, 0], tri[ff, 1], tri[ff, 2])
        d = np.linalg.norm(cp - q[pp], axis=1)
        np.minimum.at(out, pp, d)
    if max_distance is not None:
        out[out > max_distance] = np.inf
    return out
