"""The hand-object network's fixed sizes and encodings (live inference, training and evaluation).

Frames and encodings (all metres, camera optical frames x right, y down, z forward):

* **Object frame of a clip** ("aligned frame"): origin at the centre of the object's bounding
  cube, axes parallel to the optical frame of the clip's first (reference) keyframe. The mesh is
  reconstructed in this frame, so no canonical object orientation has to be guessed (a symmetric
  or unknown object has none); keyframe 0's object rotation is the identity by construction.
* **Occupancy grid**: GRID_RES^3 voxels on a cube of side GRID_SIDE centred on the origin of the
  aligned frame; voxel (i, j, k) centre = -GRID_SIDE/2 + (i, j, k + 0.5) * pitch (x, y, z order).
* **Clips**: 1..MAX_FRAMES frames; the camera enters as [fx/W, fy/H, cx/W, cy/H] (`intrinsics_vector`).
* **Per-frame pose encoding** (9 numbers): rotation cam_t <- aligned frame as 6D (first two
  columns), then the object centre as (u, v) in [-1, 1] image coordinates and
  lz = log(z * W / fx) (depth divided by the focal length in image widths: what an image shows).
* **Hand joints**: (u, v) per joint in [-1, 1], the wrist's lz, and depths relative to the wrist
  in decimetres.
"""
from __future__ import annotations

import numpy as np

MAX_FRAMES = 6  # frame slots per clip; unused slots are padding with valid = 0
GRID_RES = 64
GRID_SIDE = 0.32  # metres: hand-held objects of the engine are <= 0.32 m x 1.2 scale (rare ones clip)
IMAGE_SIZE = 128
MASK_SIZE = 64


def grid_pitch(res: int = GRID_RES, side: float = GRID_SIDE) -> float:
    return side / res


def grid_centres(res: int = GRID_RES, side: float = GRID_SIDE) -> np.ndarray:
    """(res, res, res, 3) voxel centres of the aligned grid, metres."""
    c = -side / 2 + (np.arange(res) + 0.5) * (side / res)
    return np.stack(np.meshgrid(c, c, c, indexing="ij"), -1)



def intrinsics_vector(k: np.ndarray, width: int, height: int) -> np.ndarray:
    """(..., 3, 3) -> (..., 4) [fx/W, fy/H, cx/W, cy/H] (the network's camera input)."""
    return np.stack([k[..., 0, 0] / width, k[..., 1, 1] / height, (k[..., 0, 2] + 0.5) / width,
                     (k[..., 1, 2] + 0.5) / height], -1).astype(np.float32)


def encode_point(p: np.ndarray, k: np.ndarray, width: int, height: int) -> np.ndarray:
    """(..., 3) camera points -> (..., 3) [u, v, lz] (see module doc)."""
    z = np.maximum(p[..., 2], 1e-4)
    u_px = k[..., 0, 0] * p[..., 0] / z + k[..., 0, 2]
    v_px = k[..., 1, 1] * p[..., 1] / z + k[..., 1, 2]
    u = (u_px + 0.5) / width * 2 - 1
    v = (v_px + 0.5) / height * 2 - 1
    lz = np.log(z * width / k[..., 0, 0])
    return np.stack([u, v, lz], -1)


def decode_point(enc: np.ndarray, fx, fy, cx, cy, width: int, height: int) -> np.ndarray:
    """Inverse of `encode_point` for intrinsics given as scalars/arrays broadcasting with enc[..., 0]."""
    u_px = (enc[..., 0] + 1) / 2 * width - 0.5
    v_px = (enc[..., 1] + 1) / 2 * height - 0.5
    z = np.exp(enc[..., 2]) * fx / width
    return np.stack([(u_px - cx) * z / fx, (v_px - cy) * z / fy, z], -1)


def aligned_from_canonical(cam_from_object0: np.ndarray, origin: np.ndarray, pitch: float, res: int = 64):
    """(R, c): aligned point = R (q - c) for canonical q, where R is keyframe 0's object rotation and
    c the canonical centre of the engine's voxel cube."""
    r0 = np.asarray(cam_from_object0, np.float64)[:3, :3]
    c = np.asarray(origin, np.float64) + 0.5 * res * float(pitch)
    return r0, c


def resample_occupancy(vox: np.ndarray, origin, pitch: float, r0: np.ndarray, c: np.ndarray,
                       res: int = GRID_RES, side: float = GRID_SIDE) -> np.ndarray:
    """The engine's canonical occupancy (n^3, origin, pitch) resampled (nearest) on the aligned grid."""
    n = vox.shape[0]
    cc = (-side / 2 + (np.arange(res) + 0.5) * (side / res)).astype(np.float32)
    r = np.asarray(r0, np.float32)
    # canonical q = R0^T p + c, computed separably; then voxel indices of the engine's cube
    off = ((np.asarray(c, np.float32) - np.asarray(origin, np.float32)) / float(pitch)).astype(np.float32)
    rs = r / float(pitch)
    q = (cc[:, None, None, None] * rs[0] + cc[None, :, None, None] * rs[1]
         + cc[None, None, :, None] * rs[2]) + off
    idx = np.floor(q).astype(np.int32)
    ok = ((idx >= 0) & (idx < n)).all(-1)
    idx = np.clip(idx, 0, n - 1)
    out = vox[idx[..., 0], idx[..., 1], idx[..., 2]].astype(np.float32) * ok
    return out.reshape(res, res, res)


def area_downsample(mask: np.ndarray, size: int) -> np.ndarray:
    """(H, W) {0,1} -> (size, size) fraction of covered pixels (H, W multiples of size)."""
    h, w = mask.shape
    return mask.reshape(size, h // size, size, w // size).mean((1, 3)).astype(np.float32)
