"""Run the hand-object model on real videos without ground truth.

    python -m hoi_perception.handobject.training.realclips --out runs/handobject_wild [--model handobject] [--hfov 60]

For each video of <shared data>/video/hand_object_wild: (1) a clip reconstruction from `--keyframes`
frames spread over the first `--seconds` s (mesh PLY + overlays of the posed mesh, predicted masks),
(2) the live reconstructor over `--live-frames` consecutive frames (pose jitter between frames).
Figures without ground truth: IoU of the rendered posed mesh against the model's own predicted
visible and amodal masks, pose jitter; `--compare DIRS --baseline DIRS` pairs earlier runs video by
video (e.g. one folder per `--seconds` window and model). No calibration is known: a horizontal field of view of `--hfov`
degrees is assumed and the network sees the centre square crop of each frame.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.atomic_files import atomic_write_bytes
from hoi_perception.paths import shared_data_dir
from hoi_perception.pipeline.stages import InferenceError, load_reconstructor
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError

from ..infer import crop_square, mesh_level
from ..mesh import silhouette_triangles


def pose_jitter(poses: np.ndarray) -> dict:
    """Frame-to-frame changes of a (T, 4, 4) trajectory: mean translation (cm) and rotation (deg)."""
    from hoi_perception.metrics import rotation_error_deg

    if len(poses) < 2:
        return {"jitter_trans_cm": float("nan"), "jitter_rot_deg": float("nan")}
    dt = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    dr = rotation_error_deg(poses[1:, :3, :3], poses[:-1, :3, :3])
    return {"jitter_trans_cm": float(100 * dt.mean()), "jitter_rot_deg": float(np.mean(dr))}


def read_frames(path: Path, indices) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    for i in indices:
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
        ok, bgr = cap.read()
        if ok:
            out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def overlay_panel(img: np.ndarray, k: np.ndarray, verts: np.ndarray, faces: np.ndarray, pose: np.ndarray,
                  masks: np.ndarray, scale: int = 3) -> np.ndarray:
    """Network image (upscaled) with the posed mesh's silhouette (red, outline) and the predicted
    visible (green) / amodal (blue outline) object masks."""
    size = img.shape[0] * scale
    big = cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), (size, size), interpolation=cv2.INTER_NEAREST)
    ks = k.copy()
    ks[:2] *= scale
    ks[0, 2] = (k[0, 2] + 0.5) * scale - 0.5
    ks[1, 2] = (k[1, 2] + 0.5) * scale - 0.5
    sil = silhouette_triangles(verts @ pose[:3, :3].T + pose[:3, 3], faces, ks, size, size)
    vis = cv2.resize((masks[1] > 0.5).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    amo = cv2.resize((masks[0] > 0.5).astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    out = big.copy()
    out[sil] = (0.5 * out[sil] + 0.5 * np.array([0, 0, 255])).astype(np.uint8)
    out[vis > 0] = (0.7 * out[vis > 0] + 0.3 * np.array([0, 255, 0])).astype(np.uint8)
    for m, col in ((amo, (255, 0, 0)), (sil.astype(np.uint8), (0, 0, 255))):
        cs, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, cs, -1, col, 1)
    return out


def write_ply(path: Path, verts: np.ndarray, faces: np.ndarray) -> None:
    import trimesh

    trimesh.Trimesh(verts, faces, process=False).export(str(path))


def clip_entry(model, video: Path, out: Path, args) -> tuple[dict, CameraIntrinsics, float, int]:
    """Clip reconstruction from keyframes of the first seconds: mesh PLY, overlay sheet, report entry."""
    cap = cv2.VideoCapture(str(video))
    opened = cap.isOpened()
    n, fps = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), cap.get(cv2.CAP_PROP_FPS) or 30.0
    cap.release()
    # a corrupt file does not open or reports no frames; the span below needs at least one
    if not opened or n < 1:
        raise InputError("cannot be opened as a video" if not opened else "cannot be read as a video (0 frames)")
    span = min(n - 1, int(args.seconds * fps))
    idx = np.linspace(0, span, args.keyframes).round().astype(int)
    frames = read_frames(video, idx)
    if not frames:  # the header was readable, the frames are not
        raise InputError("no frame could be decoded")
    h, w = frames[0].shape[:2]
    kin = CameraIntrinsics.from_fov(w, h, args.hfov)
    crops = [crop_square(f, kin) for f in frames]
    images, kmats = np.stack([c[0] for c in crops]), np.stack([c[1] for c in crops])
    clip = model.reconstruct(images, kmats, refine=model.card.get("refine", "silhouette"))
    write_ply(out / f"{video.stem}_mesh.ply", clip.vertices, clip.faces)
    panels = [overlay_panel(images[i], kmats[i], clip.vertices, clip.faces, clip.poses[i], clip.masks[i])
              for i in range(len(images))]
    cv2.imwrite(str(out / f"{video.stem}_overlay.jpg"), np.concatenate(
        [np.concatenate(panels[:3], 1), np.concatenate(panels[3:6], 1)], 0) if len(panels) == 6 else np.concatenate(panels, 1))
    ext = clip.vertices.max(0) - clip.vertices.min(0)
    entry = {"frames": idx.tolist(), "size": [w, h], "mesh_vertices": len(clip.vertices),
             "mesh_extent_cm": [round(float(e) * 100, 1) for e in ext],
             "iou_visible": float(np.mean(clip.iou_visible)), "iou_amodal": float(np.mean(clip.iou_amodal)),
             "visible_mask_px": (clip.masks[:, 1] > 0.5).sum((1, 2)).tolist(),
             "hand_visible": clip.hand_visible.tolist(), "object_depth_m": clip.poses[:, 2, 3].round(3).tolist(),
             "messages": clip.messages}
    entry.update(pose_jitter(clip.poses))
    return entry, kin, fps, n


def live_entry(recon, video: Path, kin: CameraIntrinsics, fps: float, n: int, live_frames: int) -> dict:
    """Consecutive frames through the registry reconstructor: results, latency, pose jitter."""
    recon.reset()  # a new video: no keyframes of the previous one
    frames = read_frames(video, range(min(n, live_frames)))
    poses, times, errors = [], [], []
    for i, img in enumerate(frames):
        fr = Frame(image=img, stamp_ns=int(i * 1e9 / fps), frame_id="camera", intrinsics=kin, index=i)
        t0 = time.perf_counter()
        try:
            res = recon.reconstruct(fr)
        except (InputError, InferenceError) as exc:  # the node skips such a frame and goes on; so do we
            res = None
            errors.append(f"frame {i}: {exc}")
        times.append(time.perf_counter() - t0)
        if res is not None:
            p = np.eye(4)
            p[:3, :3] = res.object.pose.rotation_matrix()
            p[:3, 3] = res.object.pose.position
            poses.append(p)
    live = {"frames": len(frames), "results": len(poses),
            # the first frame only fills the buffer; null (valid JSON, unlike NaN) when nothing else ran
            "latency_s_mean": float(np.mean(times[1:])) if len(times) > 1 else None,
            **(pose_jitter(np.array(poses)) if len(poses) > 1 else {})}
    if errors:
        live["errors"] = errors
    return live


COMPARED = ("iou_visible", "iou_amodal", "jitter_trans_cm")


def compare_reports(runs, baselines) -> dict:
    """Paired differences (run - baseline, mean and standard error over every video of every pair of
    output folders) of the per-video figures in COMPARED; videos with an error on either side are left out."""
    from hoi_perception.metrics import paired_difference_by_name

    a, b = [], []
    for run, base in zip(runs, baselines, strict=True):
        va, vb = (json.loads((Path(d) / "report.json").read_text())["videos"] for d in (run, base))
        for name in sorted(set(va) & set(vb)):
            if "error" not in va[name] and "error" not in vb[name]:
                a.append([va[name][k] for k in COMPARED])
                b.append([vb[name][k] for k in COMPARED])
    if len(a) < 2:
        raise SystemExit(f"--compare: {len(a)} video(s) measured on both sides; a standard error needs two")
    return paired_difference_by_name(np.array(a), np.array(b), COMPARED)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    ap.add_argument("--compare", nargs="+", metavar="DIR",
                    help="no run: compare these earlier --out folders with --baseline's, pair by pair")
    ap.add_argument("--baseline", nargs="+", metavar="DIR", help="with --compare: the folders to compare against")
    ap.add_argument("--model", default="handobject")
    ap.add_argument("--videos", default="", help="folder of videos (default: shared hand_object_wild)")
    ap.add_argument("--hfov", type=float, default=60.0)
    ap.add_argument("--keyframes", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--live-frames", type=int, default=20)
    ap.add_argument("--mesh-level", type=float, help="occupancy level of the extracted surface (default: the card's)")
    args = ap.parse_args(argv)
    if args.compare:
        if not args.baseline or len(args.baseline) != len(args.compare):
            ap.error("--compare needs as many --baseline folders")
        diff = compare_reports(args.compare, args.baseline)
        for k in COMPARED:
            print(f"{k:18s} {diff[k]['mean']:+.4f} +- {diff[k]['sem']:.4f}")
        print(f"over {diff['n']} videos (run - baseline)")
        return 0
    if not args.out:
        ap.error("--out is required")
    import torch

    torch.set_num_threads(1)

    # the live path as the node runs it; its network also serves the clip reconstructions
    recon = load_reconstructor(args.model, "handobject")
    model = recon.model
    if args.mesh_level is not None:
        model.mesh_level = mesh_level(args.mesh_level)
    vdir = Path(args.videos) if args.videos else shared_data_dir() / "video" / "hand_object_wild"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"hfov_deg_assumed": args.hfov, "mesh_level": model.mesh_level, "videos": {}}
    for video in sorted(vdir.glob("*.mp4")):
        try:
            entry, kin, fps, n = clip_entry(model, video, out, args)
            entry["live"] = live_entry(recon, video, kin, fps, n, args.live_frames)
            print(video.stem, json.dumps(entry))
        except (InputError, InferenceError) as exc:  # one bad video must not cost the others
            entry = {"error": f"{video.name}: {exc}"}
            print(f"{video.stem}: skipped: {entry['error']}")
        report["videos"][video.stem] = entry
        # after every video: an interrupted run keeps what it measured, never a half-written file
        atomic_write_bytes(out / "report.json", json.dumps(report, indent=1).encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
