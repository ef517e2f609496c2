"""Horizontal-flip averaging of a clip at inference: one more network pass on the mirrored frames.

Mirroring every frame about its vertical centre line, with the principal point mirrored too
(cx' = W - 1 - cx, pixel centres at integers), gives exactly the images of the scene reflected
through the camera's y-z plane (x -> -x in the optical frame). The engine's clips hold left and
right hands alike, so a mirrored clip is an ordinary input. Every output of the network has a
reflected counterpart that lives in the same frame as the unmirrored pass's:

* occupancy: the aligned object frame has keyframe 0's camera axes and its origin at the centre
  of the object's bounding cube, both carried along by the reflection, and the grid is symmetric
  about that origin, so the grid is flipped along x (its first axis);
* masks: flipped along the image width;
* pose: rotation R -> S R S (S = diag(-1, 1, 1)), centre u -> -u ([-1, 1] image coordinates);
* hand: joint u -> -u, depths unchanged (the 21 joints are ordered alike for both hands).

The two estimates are averaged: the occupancy and mask logits as probabilities (returned as
logits), the rest (pose, hand joints, heatmap peaks) as numbers (the 6D rotation is re-orthonormalised
when it is decoded). For the direct variant the merge is exactly mirror-equivariant whatever the
network has learned: the merge for a mirrored clip is the reflection of the merge for the clip
(tested); the flow variant's fixed starting noise is not mirrored, so there it is an average only.
"""
from __future__ import annotations

import numpy as np

# 6D rotation = first two columns of R; S R S negates rows 1 and 2 of column 0 and row 0 of column 1
ROT6D_REFLECT = np.array([1.0, -1.0, -1.0, -1.0, 1.0, 1.0], np.float32)
PROBABILITY_OUTPUTS = ("occupancy", "masks")  # logits, averaged as probabilities


def flip_clip(images: np.ndarray, kmats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W, 3) frames and (T, 3, 3) intrinsics -> the mirrored frames and their intrinsics."""
    width = images.shape[2]
    k = np.array(kmats, dtype=np.float64, copy=True)
    k[:, 0, 2] = width - 1 - k[:, 0, 2]
    return np.ascontiguousarray(images[:, :, ::-1]), k


def unflip_outputs(out: dict) -> dict:
    """Outputs of the pass on mirrored frames (batch dimension removed) -> estimates in the
    unmirrored frames (see the module doc)."""
    res = dict(out)
    res["occupancy"] = out["occupancy"][::-1]
    res["masks"] = out["masks"][..., ::-1]
    pose = np.array(out["pose"], np.float32, copy=True)
    pose[..., :6] *= ROT6D_REFLECT
    pose[..., 6] = -pose[..., 6]
    res["pose"] = pose
    uv = np.array(out["hand_uv"], np.float32, copy=True)
    uv[..., 0] = -uv[..., 0]
    res["hand_uv"] = uv
    return {k: np.ascontiguousarray(v) for k, v in res.items()}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def merge_flipped(out: dict, out_mirrored: dict) -> dict:
    """Average the pass on the clip with the pass on its mirror image (raw outputs of both,
    batch dimension removed; `out_mirrored` as the network gave it)."""
    back = unflip_outputs(out_mirrored)
    merged = {}
    for name, value in out.items():
        if name in PROBABILITY_OUTPUTS:
            avg = _logit((_sigmoid(value) + _sigmoid(back[name])) / 2)
        else:
            avg = (np.asarray(value, np.float64) + back[name]) / 2
        merged[name] = avg.astype(np.asarray(value).dtype)
    return merged


def flip_item(item: dict) -> dict:
    """A training item (`data.clip_item`, frame slots first) as the engine would have rendered the
    mirrored scene: frames and masks flipped, principal point mirrored, every target reflected
    (a chiral object becomes its mirror image, a right hand a left one). An involution."""
    out = dict(item)
    out["images"] = np.ascontiguousarray(item["images"][..., ::-1])
    k = np.array(item["intrinsics"], np.float32, copy=True)
    k[..., 2] = 1.0 - k[..., 2]  # (cx + 0.5) / W of the mirrored frame
    out["intrinsics"] = k
    if "occupancy" not in item:
        return out
    out.update(unflip_outputs({"occupancy": item["occupancy"], "masks": item["masks"], "pose": item["pose"],
                               "hand_uv": item["hand_uv"]}))
    cam = np.array(item["hand_cam"], np.float32, copy=True)
    cam[..., 0] = -cam[..., 0]
    out["hand_cam"] = cam
    m = np.array(item["cam_from_aligned"], np.float32, copy=True)  # S M S, S = diag(-1, 1, 1, 1)
    m[..., 0, :] *= -1
    m[..., :, 0] *= -1
    out["cam_from_aligned"] = m
    return out
