"""Calibrate where the front end's palm landmarks sit on the anny hand (`fitting/hand_landmarks.py`).

    python -m hoi_perception.fitting.training.hand_landmarks --out hoi_perception/fitting/data/hand_landmarks.json

On the real hand photos in ../shared/data/images/hands (not the phone videos `bench real`
measures on), every hand the front end finds (image mode) is fitted with anny's joints compared
directly with the landmarks, the six palm landmarks left out: the fingers alone place the hand.
Each palm landmark's pixel is then lifted to the depth of the anny joint it names, and its offset
from that joint is written in the hand's frame (left hands mirrored). The median offset over the
hands moves each palm joint; the moved points are written as affine combinations of the six palm
joints of the rest right hand (exact for any pose, side and size: the palm is rigid in anny).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from hoi_perception.fitting.hand_landmarks import PALM
from hoi_perception.paths import shared_data_dir

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


def photos(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)


def palm_offsets(fitter, hand, camera: np.ndarray) -> tuple[np.ndarray, float]:
    """(6, 3) offsets (metres, hand frame, left mirrored to right) of the palm landmarks from anny's
    palm joints after a fingers-only fit, and the fingers' mean 2D gap (px)."""
    from hoi_perception.raster import pinhole_project

    weights = np.ones(21)
    weights[list(PALM)] = 0.0
    res = fitter.fit(hand, camera, weights=weights)
    joints = res.output.joints[0].double().numpy()
    frame = res.params.global_orient[0].double().numpy()
    gap = np.linalg.norm(pinhole_project(joints, camera, 1e-3) - hand.keypoints, axis=1)
    inv_k = np.linalg.inv(camera)
    out = []
    for k in PALM:
        ray = inv_k @ np.r_[hand.keypoints[k], 1.0]
        offset = frame.T @ (ray / ray[2] * joints[k, 2] - joints[k])
        if hand.side == "left":
            offset[1] = -offset[1]  # the hand frame's y mirrors between the sides
        out.append(offset)
    return np.array(out), float(np.delete(gap, list(PALM)).mean())


def affine_weights(palm: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(6, 6) rows summing to 1 with targets = weights @ palm (minimum-norm change from the identity)."""
    a = np.c_[palm, np.ones(len(palm))].T  # (4, 6)
    b = np.c_[targets, np.ones(len(targets))].T
    # the identity plus the smallest correction that reaches the targets
    return np.eye(len(palm)) + (np.linalg.pinv(a) @ (b - a)).T


def main(argv=None) -> int:
    from hoi_perception.body.anny_model import AnnyBodyModel
    from hoi_perception.fitting.hand_fit import HandFitSettings, HandFitter
    from hoi_perception.frontend.factory import make_frontend
    from hoi_perception.pipeline.types import CameraIntrinsics

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", default=None, help="folder of hand photos (default ../shared/data/images/hands)")
    ap.add_argument("--fov", type=float, default=60.0, help="assumed horizontal field of view, degrees")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.time()
    root = Path(args.photos) if args.photos else shared_data_dir() / "images" / "hands"
    files = photos(root)
    models = {s: AnnyBodyModel(f"hand_{s}") for s in ("left", "right")}
    fitter = HandFitter(models, HandFitSettings(steps=args.steps), regressor=torch.eye(21))
    front = make_frontend(mode="image", max_people=1, max_hands=2)
    offsets, gaps, used = [], [], []
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
        bgr = cv2.imread(str(path))
        if bgr is None:
            continue
        h, w = bgr.shape[:2]
        camera = CameraIntrinsics.from_fov(w, h, args.fov).matrix
        for hand in front.detect(np.ascontiguousarray(bgr[..., ::-1])).hands:
            off, gap = palm_offsets(fitter, hand, camera)
            offsets.append(off)
            gaps.append(gap)
            used.append(f"{path.relative_to(root)}:{hand.side}")
            print(f"{used[-1]}: fingers {gap:.1f} px; palm offsets (mm) {np.round(off[:, 0] * 1000, 1).tolist()} (x)")
    front.close()
    if len(offsets) < 5:
        raise SystemExit(f"only {len(offsets)} hands found in {root}: too few to calibrate")
    offsets = np.array(offsets)
    median = np.median(offsets, 0)
    right = models["right"]
    with torch.no_grad():
        rest = right(right.rest_params(1))
    palm = rest.joints[0].double().numpy()[list(PALM)]
    frame = np.eye(3)  # the rest hand's frame is the model frame (global orientation identity)
    weights = affine_weights(palm, palm + median @ frame.T)
    card = {
        "name": "hand_landmarks", "palm_landmarks": list(PALM), "palm_weights": np.round(weights, 6).tolist(),
        "median_offset_mm": np.round(median * 1000, 2).tolist(),
        "spread_mm": np.round(offsets.std(0) * 1000, 2).tolist(),
        "hands": len(offsets), "photos": len(files), "photos_sha256": digest.hexdigest()[:16],
        "fingers_gap_px": round(float(np.mean(gaps)), 2), "fov_deg": args.fov, "steps": args.steps,
        "hardware": "CPU", "seconds": round(time.time() - t0, 1),
        "command": "python -m hoi_perception.fitting.training.hand_landmarks --out "
                   "hoi_perception/fitting/data/hand_landmarks.json",
    }
    out = Path(args.out)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(card, indent=1) + "\n")
    tmp.replace(out)
    print(json.dumps({k: card[k] for k in ("median_offset_mm", "hands", "fingers_gap_px")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
