"""Training/evaluation items from the data engine's hand clips (`hoi-perception synth --kind hand`).

`clip_item(arrays, frames)` turns one stored clip into the network's inputs and targets for the
chosen frame indices (the first one is the reference keyframe that fixes the object frame).
Slots beyond the chosen frames are padding with `valid = 0`, so every item has MAX_FRAMES slots.
"""
from __future__ import annotations

import numpy as np

from hoi_perception.geometry import matrix_to_rot6d_np
from hoi_perception.synth.engine import decode_png

from ..encoding import (
    IMAGE_SIZE,
    MASK_SIZE,
    MAX_FRAMES,
    aligned_from_canonical,
    area_downsample,
    encode_point,
    intrinsics_vector,
    resample_occupancy,
)

KEYS = None  # all arrays


def clip_item(arrays: dict, frames, with_targets: bool = True) -> dict:
    frames = [int(f) for f in frames]
    n = len(frames)
    if not 1 <= n <= MAX_FRAMES:
        raise ValueError(f"1..{MAX_FRAMES} frames per item, got {n}")
    imgs = np.zeros((MAX_FRAMES, 3, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    kvec = np.zeros((MAX_FRAMES, 4), np.float32)
    kvec[:] = [1.0, 1.0, 0.5, 0.5]
    valid = np.zeros(MAX_FRAMES, np.float32)
    valid[:n] = 1
    item = {"images": imgs, "intrinsics": kvec, "valid": valid}
    K = arrays["K"].astype(np.float64)
    size = None
    for s, t in enumerate(frames):
        rgb = decode_png(arrays[f"rgb_{t}"])
        size = rgb.shape[0]
        if rgb.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"clips must be generated with --size {IMAGE_SIZE}, got {rgb.shape[1]}x{rgb.shape[0]}")
        imgs[s] = rgb.transpose(2, 0, 1) / 255.0
        kvec[s] = intrinsics_vector(K[t], IMAGE_SIZE, IMAGE_SIZE)
    if not with_targets:
        return item
    # object frame: keyframe frames[0]'s orientation, centre of the voxel cube
    cfo = arrays["cam_from_object"].astype(np.float64)
    origin, pitch = arrays["object_voxel_origin"], float(arrays["object_voxel_pitch"])
    vox = np.unpackbits(arrays["object_voxels_bits"]).reshape(64, 64, 64)
    r0, c = aligned_from_canonical(cfo[frames[0]], origin, pitch)
    item["occupancy"] = resample_occupancy(vox, origin, pitch, r0, c)
    masks = np.zeros((MAX_FRAMES, 3, MASK_SIZE, MASK_SIZE), np.float32)
    pose = np.zeros((MAX_FRAMES, 9), np.float32)
    pose[:, 0], pose[:, 4] = 1, 1
    cam_from_aligned = np.tile(np.eye(4), (MAX_FRAMES, 1, 1))
    hand_uv = np.zeros((MAX_FRAMES, 21, 2), np.float32)
    hand_z = np.zeros((MAX_FRAMES, 22), np.float32)
    hand_cam = np.zeros((MAX_FRAMES, 21, 3), np.float32)
    for s, t in enumerate(frames):
        amodal = decode_png(arrays[f"amodal_object_{t}"]) > 127
        inst = decode_png(arrays[f"instance_{t}"])
        masks[s, 0] = area_downsample(amodal, MASK_SIZE)
        masks[s, 1] = area_downsample(inst == 4, MASK_SIZE)
        masks[s, 2] = area_downsample((inst == 2) | (inst == 3), MASK_SIZE)
        r = cfo[t, :3, :3] @ r0.T  # cam_t <- aligned
        centre = cfo[t, :3, :3] @ c + cfo[t, :3, 3]
        pose[s, :6] = matrix_to_rot6d_np(r)
        pose[s, 6:] = encode_point(centre, K[t], size, size)
        cam_from_aligned[s, :3, :3] = r
        cam_from_aligned[s, :3, 3] = centre
        j = arrays["hand_joints_cam"][t].astype(np.float64)
        e = encode_point(j, K[t][None], size, size)
        hand_uv[s] = e[:, :2]
        hand_z[s, 0] = e[0, 2]
        hand_z[s, 1:] = (j[:, 2] - j[0, 2]) * 10.0
        hand_cam[s] = j
    item.update(masks=masks, pose=pose, hand_uv=hand_uv, hand_z=hand_z, hand_cam=hand_cam,
                cam_from_aligned=cam_from_aligned.astype(np.float32))
    return item


def random_frames(rng: np.random.Generator, total: int, lo: int = 2, hi: int = MAX_FRAMES) -> list[int]:
    """A random subset of 2..6 frames in temporal order (what ForeHOI samples in training)."""
    n = int(rng.integers(lo, min(hi, total) + 1))
    return sorted(rng.choice(total, size=n, replace=False).tolist())


def collate(items: list[dict]):
    import torch

    return {k: torch.from_numpy(np.stack([it[k] for it in items])) for k in items[0]}
