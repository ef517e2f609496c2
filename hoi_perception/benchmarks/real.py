"""Real cameras: the person and hand side measured on the real data in ../shared/data.

    hoi-perception bench real [--parts frames,hands,handobject,handphotos,parkour] [--sheets DIR] [--json]

* frames: the 12 BEHAVE/COCO photos with only their object masks given (the person comes from the
  front end). Per item: IoU of the projected body with the true person mask, share of the body's
  22 joints (projected) inside that mask, 2D gap of the fitted body's keypoints to the front end's
  (px, and share of the person's height), IoU of the placed object (template posed and sized as
  published) with the object mask it was given, seconds per frame. The same figures for the network
  alone given both true masks (the path without the front end), paired per frame. Intrinsics are a
  field-of-view guess (90 deg BEHAVE Kinect, 60 deg COCO).
* hands: the six phone videos, every 6th of the first 120 frames: share of frames with a hand, 2D
  gap of the fitted anny hand's 21 landmarks (the detector's landmark definition on anny,
  `fitting/hand_landmarks.py`) to the front end's (px at 720p), the same for anny's own 21 joints,
  seconds per hand fit (from the start, not warm-started).
* handobject: the six phone videos as a 10 fps stream of their first 2 s through the hand-object
  reconstructor (shipped card, front end on): share of frames with a result, the 3D gap of the
  front end's fitted hands to the posed object mesh (median per video, metres; 0 where they touch
  or overlap), seconds per frame; ``--sheets`` adds
  a strip per video of the posed object mesh (red) and the hands (green) on the frames.
* handphotos: the 17 photos of hands in ../shared/data/images/hands, each as a two-frame stream
  through the hand-object reconstructor (front end in image mode): per photo a result or the reason
  there is none, and the largest share of the object's silhouette on a face (`object_gate.py`);
  ``--sheets`` adds one panel per photo.
* parkour: ../shared/data/video/parkour_dev (Vicon joints): Procrustes-aligned MPJPE of 12 joints
  (hips, knees, ankles, shoulders, elbows, wrists) per frame of the fitted body, against the front
  end's own world landmarks; per video and the mean of the videos' means; seconds per frame. Each
  sampled frame is fitted afresh, or with ``--warm`` from the previous sampled frame's fit (a
  stream's warm start with half the steps; off in the pipeline: it loses here, docs/benchmarks.md).

``--sheets DIR`` writes front and side views per item to look at (they show dataset images: keep
them out of the repository). Figures: docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from hoi_perception.paths import shared_data_dir

PARKOUR_JOINTS = ("l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle", "l_shoulder", "l_elbow", "l_wrist",
                  "r_shoulder", "r_elbow", "r_wrist")
ANNY_OF = {"l_hip": "left_hip", "l_knee": "left_knee", "l_ankle": "left_ankle", "r_hip": "right_hip",
           "r_knee": "right_knee", "r_ankle": "right_ankle", "l_shoulder": "left_shoulder", "l_elbow": "left_elbow",
           "l_wrist": "left_wrist", "r_shoulder": "right_shoulder", "r_elbow": "right_elbow", "r_wrist": "right_wrist"}
HAND_STRIDE, HAND_FRAMES = 6, 120


def _mean_se(x) -> tuple[float, float]:
    x = np.asarray(x, np.float64)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


def _body_output(body, model):
    """Re-pose the published body from its parameters (what a consumer of the message can do)."""
    from hoi_perception.body.interface import BodyParams

    params = BodyParams(shape=torch.as_tensor(body.shape_params, dtype=torch.float32)[None],
                        pose=torch.as_tensor(body.pose_params, dtype=torch.float32).reshape(1, -1, 3),
                        global_orient=torch.as_tensor(body.root_pose.rotation_matrix(), dtype=torch.float32)[None],
                        transl=torch.as_tensor(body.root_pose.position, dtype=torch.float32)[None])
    with torch.no_grad():
        return model(params, keypoints=True)


# -- the 12 photos ------------------------------------------------------------------------------
def real_photos():
    """The 12 BEHAVE/COCO photos: (item, BGR image, person mask, object mask, intrinsics, object template
    or None). The intrinsics are a field-of-view guess (90 deg BEHAVE Kinect, 60 deg COCO)."""
    from hoi_perception.fullbody.training.real_images import BEHAVE_TO_TEMPLATE, _read_image, _read_mask, find_items
    from hoi_perception.pipeline.types import CameraIntrinsics

    root = shared_data_dir() / "images" / "hoi_noncommercial"
    for name in ("behave_frames_contho", "coco_hdm", "coco_chore_117377"):
        for it in find_items(root / name):
            bgr = _read_image(it["image"])
            h, w = bgr.shape[:2]
            hm, om = (_resize(_read_mask(it[k]), (h, w)) for k in ("human", "object"))
            k = CameraIntrinsics.from_fov(w, h, 90.0 if it["kind"] == "behave" else 60.0)
            yield it, bgr, hm, om, k, (BEHAVE_TO_TEMPLATE.get(it["object_name"]) if it["object_name"] else None)


def frames_part(sheets: Path | None) -> dict:
    from hoi_perception.assets import body_model
    from hoi_perception.fitting.body_fit import BODY_KEYPOINTS
    from hoi_perception.frontend.factory import make_frontend
    from hoi_perception.fullbody.training.real_images import rasterize, side_view
    from hoi_perception.metrics import mask_iou
    from hoi_perception.pipeline.stages import load_reconstructor
    from hoi_perception.pipeline.types import Frame
    from hoi_perception.raster import pinhole_project

    model = body_model()
    faces = model.faces.numpy()
    front = make_frontend(mode="image")  # for the keypoint gap: the same detector, run apart
    recons: dict = {}
    rows = []
    for it, bgr, hm, om, k, template in real_photos():
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        h, w = rgb.shape[:2]
        for path in ("fit", "network"):
            key = (path, template)
            if key not in recons:
                recons[key] = load_reconstructor("fullbody", "fullbody", object_class=template,
                                                 person_fit=path == "fit", frontend_mode="image")
        t0 = time.perf_counter()
        fit = recons[("fit", template)].reconstruct(Frame(rgb, 0, "camera", k, masks=om[None]))
        seconds = time.perf_counter() - t0
        net = recons[("network", template)].reconstruct(Frame(rgb, 0, "camera", k, masks=np.stack([hm, om])))
        row = {"id": it["id"], "seconds": seconds}
        _no_masks(row, recons, template, rgb, k, om, model)
        det = front.detect(rgb)
        for name, res in (("fit", fit), ("network", net)):
            body = res.bodies[0]
            out = _body_output(body, model)
            v = out.vertices[0].numpy()
            sil = rasterize(pinhole_project(v, k.matrix, 1e-3), faces, (h, w))
            j2 = pinhole_project(out.joints[0].numpy(), k.matrix, 1e-3).round().astype(int)
            inside = [bool(hm[y, x]) if 0 <= x < w and 0 <= y < h else False for x, y in j2]
            row[f"{name}_iou"] = mask_iou(sil, hm)
            ov, of = _object_mesh(res)
            row[f"{name}_object_iou"] = mask_iou(rasterize(pinhole_project(ov, k.matrix, 1e-3), of, (h, w)), om)
            row[f"{name}_joints_inside"] = float(np.mean(inside))
            # the joints outside the true mask and how far outside (px): what keeps the share below 1
            dist = cv2.distanceTransform((~hm).astype(np.uint8), cv2.DIST_L2, 5)
            row[f"{name}_joints_outside_px"] = {
                n: round(float(dist[min(max(y, 0), h - 1), min(max(x, 0), w - 1)]), 1)
                for n, (x, y), ok in zip(model.joint_names, j2, inside) if not ok}
            if det.people:
                p = max(det.people, key=lambda q: (_box_overlap(q.box, hm)))
                names = [n for n in BODY_KEYPOINTS if n in p.keypoint_names]
                kp = pinhole_project(out.keypoints[0].numpy(), k.matrix, 1e-3)
                mi = [model.keypoint_names.index(BODY_KEYPOINTS[n]) for n in names]
                di = [p.index(n) for n in names]
                vis = p.visibility[di] >= 0.5
                gap = np.linalg.norm(kp[mi] - p.keypoints[di], axis=1)[vis]
                row[f"{name}_gap_px"] = float(gap.mean())
                row[f"{name}_gap_height"] = float(gap.mean() / max(p.height_px, 1.0))
            if name == "fit":
                row["person_choice"] = f"track {body.track_id}"
                if sheets is not None:
                    _sheet(sheets / f"{it['id']}.png", bgr, v, faces, sil, hm, j2, k, res, side_view)
        rows.append(row)
        print(f"{row['id']}: body IoU {row['fit_iou']:.3f} (network with both masks {row['network_iou']:.3f}); "
              f"joints inside {row['fit_joints_inside']:.2f} ({row['network_joints_inside']:.2f}); "
              f"keypoint gap {row.get('fit_gap_px', float('nan')):.1f} px; object IoU with its (given) mask "
              f"{row['fit_object_iou']:.3f} ({row['network_object_iou']:.3f}); {seconds:.2f} s", flush=True)
        if "mask_source" in row:
            print(f"  no masks given: object mask from {row['mask_source']}, IoU with the true object mask "
                  f"{row['segmenter_mask_iou']:.3f}; the object placed with it: IoU {row['segmenter_object_iou']:.3f} "
                  f"with the true mask, {row.get('segmenter_object_iou_own_mask', 0.0):.3f} with its own", flush=True)
    front.close()
    out = _summary(rows, ("iou", "joints_inside", "gap_px", "gap_height", "object_iou"))
    for key in ("segmenter_mask_iou", "segmenter_object_iou", "segmenter_object_iou_own_mask", "segmenter_seconds"):
        vals = [r[key] for r in rows if key in r]
        if vals:
            out[key] = _mean_se(vals)
    return out


def _no_masks(row: dict, recons: dict, template, rgb, k, om, model) -> None:
    """The photo with no mask at all: the object mask the pipeline makes (depth or segmenter) against
    the true one, and the object placed with it against the true mask and against its own."""
    from hoi_perception.fullbody.training.real_images import rasterize
    from hoi_perception.metrics import mask_iou
    from hoi_perception.pipeline.stages import InferenceError, ModelNotAvailable, load_reconstructor
    from hoi_perception.pipeline.types import Frame, InputError
    from hoi_perception.raster import pinhole_project

    key = ("auto", template)
    if key not in recons:
        try:
            recons[key] = load_reconstructor("fullbody", "fullbody", object_class=template, person_fit=True,
                                             frontend_mode="image", object_masks="auto")
        except ModelNotAvailable as exc:
            recons[key] = None
            print(f"no object masks made: {exc}")
    if recons[key] is None:
        return
    h, w = om.shape
    t0 = time.perf_counter()
    try:
        res = recons[key].reconstruct(Frame(rgb, 0, "camera", k, masks=None))
    except (InputError, InferenceError) as exc:
        row.update(segmenter_mask_iou=0.0, segmenter_object_iou=0.0, mask_source=f"none ({exc})")
        return
    made = recons[key].last_object_mask
    ov, of = _object_mesh(res)
    placed = rasterize(pinhole_project(ov, k.matrix, 1e-3), of, (h, w))
    row.update(segmenter_mask_iou=mask_iou(made.mask, om), segmenter_object_iou=mask_iou(placed, om),
               segmenter_object_iou_own_mask=mask_iou(placed, made.mask), mask_source=made.source,
               segmenter_seconds=time.perf_counter() - t0)


def _box_overlap(box, mask) -> int:
    x0, y0, x1, y1 = np.asarray(box, int)
    return int(mask[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1].sum())


def _resize(mask: np.ndarray, size) -> np.ndarray:
    h, w = size
    if mask.shape == (h, w):
        return mask
    return cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0


def _object_mesh(res) -> tuple[np.ndarray, np.ndarray]:
    """The published object's template posed and sized as published (camera frame)."""
    from hoi_perception.assets import object_library

    obj = res.objects[0]
    asset = object_library().get(obj.template_id)
    return float(obj.scale[0]) * asset.vertices @ obj.pose.rotation_matrix().T + obj.pose.position, asset.faces


def _sheet(path: Path, bgr, v, faces, sil, hm, j2, k, res, side_view) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = bgr.shape[:2]
    img = bgr.copy()
    img[sil] = (0.45 * img[sil] + 0.55 * np.array([200, 120, 60])).astype(np.uint8)
    contours, _ = cv2.findContours(hm.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(img, contours, -1, (255, 255, 0), max(1, w // 400))
    for x, y in j2:
        cv2.circle(img, (int(x), int(y)), max(2, w // 300), (0, 255, 0), -1)
    scale = 512 / max(h, w)
    img = cv2.resize(img, (int(w * scale), int(h * scale)))
    ov, of = _object_mesh(res)
    side = side_view(v, ov, faces, of, size=img.shape[0])
    cv2.imwrite(str(path), np.concatenate([img, side], axis=1))


def _summary(rows: list[dict], metrics) -> dict:
    from hoi_perception.metrics import paired_rows_by_name

    out = {"items": rows, "n": len(rows)}
    for name in ("fit", "network"):
        for m in metrics:
            vals = [r[f"{name}_{m}"] for r in rows if f"{name}_{m}" in r]
            if vals:
                out[f"{name}_{m}"] = _mean_se(vals)
    both = [m for m in metrics if all(f"fit_{m}" in r and f"network_{m}" in r for r in rows)]
    if len(rows) > 1 and both:
        out["fit_minus_network"] = paired_rows_by_name(rows, both)
    out["seconds"] = _mean_se([r["seconds"] for r in rows])
    return out


# -- hands on the phone videos ------------------------------------------------------------------
def hands_part(sheets: Path | None) -> dict:
    from hoi_perception.body.anny_model import AnnyBodyModel
    from hoi_perception.fitting.hand_fit import HandFitter
    from hoi_perception.frontend.factory import make_frontend
    from hoi_perception.pipeline.types import CameraIntrinsics
    from hoi_perception.raster import pinhole_project

    fitter = HandFitter({s: AnnyBodyModel(f"hand_{s}") for s in ("left", "right")})
    videos = sorted((shared_data_dir() / "video" / "hand_object_wild").glob("*.mp4"))
    per_video = []
    for video in videos:
        front = make_frontend(mode="video", max_people=1)
        cap = cv2.VideoCapture(str(video))
        seen = with_hand = 0
        gaps, joint_gaps, secs, sides = [], [], [], set()
        for i in range(HAND_FRAMES):
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(bgr[..., ::-1])
            det = front.detect(rgb)  # every frame: the tracker follows the stream as a node's would
            if i % HAND_STRIDE:
                continue
            seen += 1
            if not det.hands:
                continue
            with_hand += 1
            h, w = rgb.shape[:2]
            k = CameraIntrinsics.from_fov(w, h, 60.0).matrix
            for hand in det.hands:
                t0 = time.perf_counter()
                res = fitter.fit(hand, k)
                secs.append(time.perf_counter() - t0)
                to_720p = 720.0 / min(h, w)
                uv = pinhole_project(fitter.landmarks(res.output.joints)[0].numpy(), k, 1e-3)
                gaps.append(float(np.linalg.norm(uv - hand.keypoints, axis=1).mean() * to_720p))
                uv = pinhole_project(res.output.joints[0].numpy(), k, 1e-3)
                joint_gaps.append(float(np.linalg.norm(uv - hand.keypoints, axis=1).mean() * to_720p))
                sides.add(f"{hand.side} ({hand.side_from})")
        cap.release()
        front.close()
        row = {"video": video.name, "frames": seen, "with_hand": with_hand,
               "gap_px_720p": float(np.mean(gaps)) if gaps else None,
               "joint_gap_px_720p": float(np.mean(joint_gaps)) if gaps else None,
               "seconds": float(np.mean(secs)) if secs else None,
               "sides": sorted(sides)}
        per_video.append(row)
        print(f"{video.name}: hand in {with_hand}/{seen} frames; fitted hand's landmarks {row['gap_px_720p'] or float('nan'):.1f} "
              f"px from the detector's (anny's joints {row['joint_gap_px_720p'] or float('nan'):.1f} px; 720p); "
              f"sides {', '.join(row['sides']) or '-'}", flush=True)
    gaps = [r["gap_px_720p"] for r in per_video if r["gap_px_720p"] is not None]
    joint_gaps = [r["joint_gap_px_720p"] for r in per_video if r["joint_gap_px_720p"] is not None]
    secs = [r["seconds"] for r in per_video if r["seconds"] is not None]
    return {"videos": per_video, "videos_with_hand": len(gaps), "gap_px_720p": _mean_se(gaps) if gaps else None,
            "joint_gap_px_720p": _mean_se(joint_gaps) if gaps else None,
            "seconds": _mean_se(secs) if secs else None}


# -- phone videos: the hand-held object ----------------------------------------------------------
OBJECT_STRIDE, OBJECT_FRAMES = 3, 60  # a 10 fps stream of the first 2 s


def _object_overlay(rgb: np.ndarray, k: np.ndarray, res) -> np.ndarray:
    """The frame with the posed object mesh (red) and the published hands' vertices (green)."""
    from hoi_perception.raster import fill_triangles, pinhole_project

    img = np.ascontiguousarray(rgb[..., ::-1]).copy()
    h, w = img.shape[:2]
    if res is not None:
        obj = res.object
        v = obj.mesh.vertices @ obj.pose.rotation_matrix().T + obj.pose.position
        sil = fill_triangles(pinhole_project(v, k, 1e-3)[obj.mesh.faces.astype(np.int64)], (h, w))
        img[sil] = (0.45 * img[sil] + 0.55 * np.array([40, 40, 230])).astype(np.uint8)
        for hand in res.hands:
            if hand.vertices is not None and len(hand.vertices):
                for x, y in pinhole_project(hand.vertices[::8], k, 1e-3).astype(int):
                    if 0 <= x < w and 0 <= y < h:
                        cv2.circle(img, (int(x), int(y)), max(1, w // 250), (60, 220, 60), -1)
    scale = 360 / max(h, w)
    return cv2.resize(img, (int(w * scale), int(h * scale)))


def handobject_part(sheets: Path | None, centre_crop: bool = False) -> dict:
    from scipy.spatial import cKDTree

    from hoi_perception.pipeline.stages import InferenceError, load_reconstructor
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError

    recon = load_reconstructor("handobject", "handobject", hand_crop=not centre_crop)
    videos = sorted((shared_data_dir() / "video" / "hand_object_wild").glob("*.mp4"))
    per_video = []
    for video in videos:
        recon.reset()
        cap = cv2.VideoCapture(str(video))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        sampled = results = 0
        gaps, secs, panels = [], [], []
        for i in range(OBJECT_FRAMES):
            ok, bgr = cap.read()
            if not ok:
                break
            if i % OBJECT_STRIDE:
                continue
            rgb = np.ascontiguousarray(bgr[..., ::-1])
            h, w = rgb.shape[:2]
            kin = CameraIntrinsics.from_fov(w, h, 60.0)
            sampled += 1
            t0 = time.perf_counter()
            try:
                res = recon.reconstruct(Frame(rgb, int(i * 1e9 / fps), "camera", kin, index=i))
            except (InputError, InferenceError):
                res = None
            secs.append(time.perf_counter() - t0)
            if res is not None:
                results += 1
                obj = res.object
                tree = cKDTree(obj.mesh.vertices @ obj.pose.rotation_matrix().T + obj.pose.position)
                # the front end's hands, fitted: the network's own hand comes with its object
                near = [tree.query(hd.vertices)[0].min() for hd in res.hands
                        if hd.model_id.startswith("anny_hand") and hd.vertices is not None and len(hd.vertices)]
                if near:
                    gaps.append(float(min(near)))
            if sheets is not None and sampled % 5 == 0:
                panel = rgb.copy()
                if recon.crop is not None:  # the network's window, yellow
                    win = recon.crop.current(rgb.shape)
                    cv2.rectangle(panel, (win.x0, win.y0), (win.x0 + win.side - 1, win.y0 + win.side - 1),
                                  (255, 220, 0), max(2, w // 200))
                panels.append(_object_overlay(panel, kin.matrix, res))
        cap.release()
        if sheets is not None and panels:
            sheets.mkdir(parents=True, exist_ok=True)
            hmax = max(p.shape[0] for p in panels)
            cv2.imwrite(str(sheets / f"handobject_{video.stem}.png"),
                        np.concatenate([np.pad(p, ((0, hmax - p.shape[0]), (0, 0), (0, 0))) for p in panels], 1))
        row = {"video": video.name, "frames": sampled, "results": results,
               "hand_object_gap_m": float(np.median(gaps)) if gaps else None,
               "with_hand_and_object": len(gaps), "seconds": float(np.mean(secs[1:])) if len(secs) > 1 else None}
        per_video.append(row)
        gap = "-" if row["hand_object_gap_m"] is None else f"{row['hand_object_gap_m'] * 100:.1f} cm"
        print(f"{video.name}: results in {results}/{sampled} frames; hand-object gap (median) {gap} over "
              f"{len(gaps)} results with a fitted hand; {row['seconds'] or float('nan'):.2f} s per frame", flush=True)
    share = [r["results"] / max(r["frames"], 1) for r in per_video]
    gaps = [r["hand_object_gap_m"] for r in per_video if r["hand_object_gap_m"] is not None]
    return {"videos": per_video, "result_share": _mean_se(share),
            "hand_object_gap_m": _mean_se(gaps) if gaps else None}


# -- hand photos: a result only where an object is held -------------------------------------------
def handphotos_part(sheets: Path | None) -> dict:
    from hoi_perception.handobject.object_gate import newest_object_on_face
    from hoi_perception.pipeline.stages import InferenceError, load_reconstructor
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError

    recon = load_reconstructor("handobject", "handobject", frontend_mode="image")
    rows = []
    for path in sorted((shared_data_dir() / "images" / "hands").glob("*/*")):
        recon.reset()
        rgb = np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])
        kin = CameraIntrinsics.from_fov(rgb.shape[1], rgb.shape[0], 60.0)
        res, reason = None, ""
        for i in range(2):  # the first frame fills the keyframe buffer
            try:
                res = recon.reconstruct(Frame(rgb, int(i * 1e8), "camera", kin, index=i))
            except (InputError, InferenceError) as exc:
                res, reason = None, str(exc)
        share = None
        clip, det = recon.last_clip, recon.last_detections
        if clip is not None and det is not None:
            share, _ = newest_object_on_face(clip, det.people, kin.matrix, rgb.shape[:2])
        rows.append({"photo": f"{path.parent.name}/{path.name}", "result": res is not None,
                     "face_share": share, "reason": reason})
        print(f"{rows[-1]['photo']}: {'object' if res is not None else 'no result: ' + reason}", flush=True)
        if sheets is not None:
            sheets.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(sheets / f"handphoto_{path.parent.name}_{path.stem}.png"),
                        _object_overlay(rgb, kin.matrix, res))
    return {"items": rows, "n": len(rows), "with_result": sum(r["result"] for r in rows),
            "refused_on_face": sum("on a face" in r["reason"] for r in rows)}


# -- parkour: Vicon joints ------------------------------------------------------------------------
def parkour_part(sheets: Path | None, stride: int = 2, warm: bool = False, videos: str = "") -> dict:
    from hoi_perception.assets import body_model
    from hoi_perception.body.joints import BODY_JOINTS
    from hoi_perception.fitting.body_fit import BodyEvidence, BodyFitter
    from hoi_perception.fitting.pose_prior import default_pose_prior
    from hoi_perception.frontend.factory import make_frontend
    from hoi_perception.fullbody.person import WARM_MAX_AGE_NS, ChosenPerson, PersonFit
    from hoi_perception.metrics import pa_mpjpe
    from hoi_perception.pipeline.types import CameraIntrinsics

    root = shared_data_dir() / "video" / "parkour_dev"
    gt = np.load(root / "ground_truth.npz")
    names = [str(n) for n in gt["joint_names"]]
    gi = [names.index(n) for n in PARKOUR_JOINTS]
    ai = [BODY_JOINTS.index(ANNY_OF[n]) for n in PARKOUR_JOINTS]
    fitter = BodyFitter(body_model(), default_pose_prior())
    per_video = []
    for video in sorted(root.glob("*.mp4")):
        if videos and not any(video.stem.startswith(v) for v in videos.split(",")):
            continue
        joints = gt[f"{video.stem}__joint_3d_positions"]
        usable = len(joints) - 3  # the dataset's own pairing: frame i <-> index i for i < N - 3
        front = make_frontend(mode="video", max_people=1, max_hands=0)
        person_fit = PersonFit(front, fitter, WARM_MAX_AGE_NS)  # --warm: a stream's fits, each from the last
        cap = cv2.VideoCapture(str(video))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        fit_err, mp_err, secs, missed = [], [], [], 0
        for i in range(usable):
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(bgr[..., ::-1])
            det = front.detect(rgb)
            if i % stride:
                continue
            if not det.people:
                missed += 1
                continue
            p = det.people[0]
            h, w = rgb.shape[:2]
            k = CameraIntrinsics.from_fov(w, h, 60.0).matrix
            t0 = time.perf_counter()
            if warm:
                res = person_fit.fit(ChosenPerson(det, 0, "", det.person_mask(0)), k, None, det.person_mask(0), None,
                                     stamp_ns=int(i * 1e9 / fps))
            else:  # each frame on its own
                res = fitter.fit(BodyEvidence(p, [], det.person_mask(0)), k)
            secs.append(time.perf_counter() - t0)
            g = joints[i][gi]
            fit_err.append(pa_mpjpe(res.output.joints[0].numpy()[ai], g))
            # the front end names these 12 points as the canonical joints
            mp_err.append(pa_mpjpe(p.world[[p.index(ANNY_OF[n]) for n in PARKOUR_JOINTS]], g))
        cap.release()
        front.close()
        row = {"video": video.stem, "frames": len(fit_err), "missed": missed,
               "fit_pa_mpjpe_mm": float(np.mean(fit_err)), "frontend_pa_mpjpe_mm": float(np.mean(mp_err)),
               "fit_minus_frontend_mm": _mean_se(np.array(fit_err) - np.array(mp_err)),
               "seconds": float(np.mean(secs))}
        per_video.append(row)
        print(f"{video.stem}: PA-MPJPE fitted body {row['fit_pa_mpjpe_mm']:.1f} mm, front end's world landmarks "
              f"{row['frontend_pa_mpjpe_mm']:.1f} mm ({row['frames']} frames, {missed} without a person); "
              f"{row['seconds']:.2f} s per frame", flush=True)
    fit_means = [r["fit_pa_mpjpe_mm"] for r in per_video]
    mp_means = [r["frontend_pa_mpjpe_mm"] for r in per_video]
    return {"videos": per_video, "fit_pa_mpjpe_mm": _mean_se(fit_means), "frontend_pa_mpjpe_mm": _mean_se(mp_means),
            "fit_minus_frontend_mm": _mean_se(np.array(fit_means) - np.array(mp_means))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="frames,hands,handobject,handphotos,parkour")
    ap.add_argument("--sheets", default=None, help="folder for front/side overlay sheets (not for the repository)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warm", action="store_true", help="parkour: fit each sampled frame from the last one's fit "
                    "(a stream's warm start, half the steps) instead of afresh")
    ap.add_argument("--videos", default="", help="parkour: only the videos whose names start with these "
                    "(comma-separated, e.g. kv03,pu03)")
    ap.add_argument("--centre-crop", action="store_true", help="handobject: the network sees the image's centre "
                    "square, not a window that follows the hands (the behaviour before)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    sheets = Path(args.sheets) if args.sheets else None
    parts = {"frames": frames_part, "hands": hands_part, "handobject": handobject_part,
             "handphotos": handphotos_part, "parkour": parkour_part}
    unknown = set(args.parts.split(",")) - set(parts)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {sorted(parts)}")
    out = {}
    for name in args.parts.split(","):
        print(f"== {name}", flush=True)
        options = {"warm": True} if (name == "parkour" and args.warm) else {}
        if name == "parkour" and args.videos:
            options["videos"] = args.videos
        if name == "handobject" and args.centre_crop:
            options["centre_crop"] = True
        out[name] = parts[name](sheets, **options)
        summary = {k: v for k, v in out[name].items() if k not in ("items", "videos")}
        print(json.dumps(summary, indent=1))
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
