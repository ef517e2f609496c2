"""Rotation helpers (numpy). Quaternions are (x, y, z, w) everywhere in this package, as in the
project's messages; MuJoCo's (w, x, y, z) order appears only inside the MuJoCo backend."""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

# y-up (BVH, DeepMimic: x forward, y up, z right) -> REP 103 (x forward, y left, z up).
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def quat_normalize(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def quat_to_mat(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return Rotation.from_quat(q.reshape(-1, 4)).as_matrix().reshape(q.shape[:-1] + (3, 3))


def mat_to_quat(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat().reshape(m.shape[:-2] + (4,))


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ax, ay, az, aw = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bx, by, bz, bw = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ], axis=-1)


def quat_conj(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64).copy()
    q[..., :3] *= -1.0
    return q


def quat_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle (rad) between unit quaternions, sign-invariant."""
    d = np.abs(np.sum(np.asarray(a) * np.asarray(b), axis=-1))
    return 2.0 * np.arccos(np.clip(d, 0.0, 1.0))


def cross3(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross for (..., 3) arrays without its per-call overhead (hot in the env step)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def mat_to_6d(m: np.ndarray) -> np.ndarray:
    """Continuous 6D rotation feature (first two columns), for observations."""
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def heading_inverse(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inverse heading rotation of one root quaternion, as a quaternion and as a 3x3 matrix
    (rotating by the matrix is cheaper than by the quaternion, and observations do it often)."""
    x, y, z, w = (float(c) for c in q)
    yaw = np.arctan2(2.0 * (x * y + w * z), 1.0 - 2.0 * (y * y + z * z))
    c, s = np.cos(yaw), np.sin(yaw)
    quat = np.array([0.0, 0.0, -np.sin(yaw / 2), np.cos(yaw / 2)])
    return quat, np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def euler_xyz_from_quat(q: np.ndarray) -> np.ndarray:
    """Angles (a, b, c) with R = Rx(a) Ry(b) Rz(c): the order of three hinges x, y, z nested in one
    MuJoCo body. Intrinsic 'XYZ' in scipy's convention."""
    q = np.asarray(q, dtype=np.float64)
    e = Rotation.from_quat(q.reshape(-1, 4)).as_euler("XYZ")
    return e.reshape(q.shape[:-1] + (3,))


def quat_from_euler_xyz(e: np.ndarray) -> np.ndarray:
    e = np.asarray(e, dtype=np.float64)
    return Rotation.from_euler("XYZ", e.reshape(-1, 3)).as_quat().reshape(e.shape[:-1] + (4,))


def slerp_series(times: np.ndarray, quats: np.ndarray, new_times: np.ndarray) -> np.ndarray:
    """Resample (T, ..., 4) quaternion series at new_times (clamped to the original range)."""
    quats = np.asarray(quats, dtype=np.float64)
    shape = quats.shape
    flat = quats.reshape(shape[0], -1, 4)
    t = np.clip(new_times, times[0], times[-1])
    out = np.empty((len(t), flat.shape[1], 4))
    for k in range(flat.shape[1]):
        out[:, k] = Slerp(times, Rotation.from_quat(flat[:, k]))(t).as_quat()
    return out.reshape((len(t),) + shape[1:])


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation matrices taking unit vectors a (..., 3) onto b (..., 3)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    rv = Rotation.from_rotvec(
        (v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
         * np.arctan2(np.linalg.norm(v, axis=-1), c)[..., None]).reshape(-1, 3))
    # Antiparallel vectors: turn by pi about any axis perpendicular to a.
    anti = (c < -1.0 + 1e-9).reshape(-1)
    if anti.any():
        aa = a.reshape(-1, 3)[anti]
        perp = np.cross(aa, np.array([1.0, 0.0, 0.0]))
        small = np.linalg.norm(perp, axis=-1) < 1e-6
        perp[small] = np.cross(aa[small], np.array([0.0, 1.0, 0.0]))
        perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
        m = rv.as_matrix()
        m[anti] = Rotation.from_rotvec(perp * np.pi).as_matrix()
        return m.reshape(a.shape[:-1] + (3, 3))
    return rv.as_matrix().reshape(a.shape[:-1] + (3, 3))
