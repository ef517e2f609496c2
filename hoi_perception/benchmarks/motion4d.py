"""The 4D solve against ground truth.

    hoi-perception bench motion4d [--parts parkour,synthetic,annotation] [--videos kv01,pu03]
        [--fit-stride 4] [--synthetic data/mocap4d] [--cache DIR] [--json]

* parkour: ../shared/data/video/parkour_dev (8 real videos, 25 fps, Vicon joints, contact forces).
  Every frame goes through the front end and the clip solve (`hoi_perception.motion4d`); on every
  ``fit-stride``-th solved frame the per-frame fit (`fitting.body_fit`) runs too. Per video:
  PA-MPJPE (12 joints) of the solved motion, the per-frame fit and the front end's world landmarks,
  paired on the same frames; the solved clip mapped onto the Vicon frame by one similarity (the
  camera is still): MPJPE; acceleration errors (mm/frame^2) of the solved motion and of the front
  end's landmarks, each frame aligned on its own (where the solved frames are consecutive); contact
  frames against the force sensors (a hand or foot touches where its measured force exceeds FORCE_N
  and was captured): precision, recall, F1 of the solve's contacts (hands: a wrist still in the
  world frame; feet: a still heel or toe).
* synthetic: mocap rendered through the engine with 4D truth (`python -m hoi_perception.synth.mocap_video`:
  SkillMimic ball play with the ball and a still camera; CMU 131 with a moving camera). W-MPJPE through
  the true camera, PA-MPJPE, acceleration error, foot skating per ground contact, object position
  error, hand-object gap in the true contact frames and body-in-object depth; the per-frame fit beside
  the solve, and the solve with 0, 2 and 8 simulated annotated pairs.
* annotation: the annotation loop on the synthetic ball-play clip: two pairs added, re-solved from the
  last solution (needs the synthetic part's --cache).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.benchmarks.real import ANNY_OF, PARKOUR_JOINTS, _mean_se
from hoi_perception.paths import shared_data_dir

FORCE_N = 20.0  # newtons: a measured force above this is a contact
PARKOUR_FPS = 25.0  # the capture rate (the files' containers say 10)
HAND_STILL = 0.35  # m/s: a wrist slower than this in the world frame holds something


def _similarity_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """pred (N, 3) mapped onto gt by one least-squares similarity."""
    from hoi_perception.geometry import similarity_transform

    s, r, t = similarity_transform(pred, gt)
    return s * pred @ np.asarray(r).T + t


def _contact_scores(pred: np.ndarray, truth: np.ndarray) -> dict:
    from hoi_perception.metrics import f1_score

    tp = int((pred & truth).sum())
    p = tp / max(int(pred.sum()), 1)
    r = tp / max(int(truth.sum()), 1)
    return {"precision": p, "recall": r, "f1": f1_score(p, r), "frames": len(truth), "contact_frames": int(truth.sum())}


def _hand_contacts(joints_world: np.ndarray, fps: float) -> np.ndarray:
    """(T, 2) wrists still in the world frame (left, right)."""
    from hoi_perception.body.joints import BODY_JOINTS
    from hoi_perception.motion4d.ground import speeds

    wrists = joints_world[:, [BODY_JOINTS.index("left_wrist"), BODY_JOINTS.index("right_wrist")]]
    return speeds(wrists, fps) < HAND_STILL


def _per_frame_fits(ev, frames, fitter, cache: Path, score) -> tuple[list[float], float]:
    """The per-frame fit's score on each of ``frames`` (kept in ``cache``: it does not depend on the
    clip solve's settings) and its seconds per frame."""
    from hoi_perception.atomic_files import atomic_write
    from hoi_perception.fitting.body_fit import BodyEvidence
    from hoi_perception.motion4d.solve import _people

    if cache.is_file():
        with np.load(cache) as z:
            if z["frames"].tolist() == list(frames):
                return [score(j, t) for j, t in zip(z["joints"], frames)], float(z["seconds"])
    t0 = time.perf_counter()
    out = []
    for t in frames:
        # the person's mask as kept (MASK_SIDE), back at the image's size
        mask = cv2.resize(ev.masks[t].astype(np.uint8), ev.image_size, interpolation=cv2.INTER_NEAREST) > 0
        res = fitter.fit(BodyEvidence(_people(ev, t, t + 1)[0], [], mask), ev.camera)
        out.append(res.output.joints[0].numpy())
    seconds = (time.perf_counter() - t0) / max(len(frames), 1)
    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, frames=np.array(frames), joints=np.array(out), seconds=np.array(seconds))

    atomic_write(cache, write)
    return [score(j, t) for j, t in zip(out, frames)], seconds


def parkour_part(videos: str = "", fit_stride: int = 2, cache: Path | None = None) -> dict:
    from hoi_perception.assets import body_model
    from hoi_perception.body.joints import BODY_JOINTS
    from hoi_perception.fitting.body_fit import BodyFitter
    from hoi_perception.fitting.pose_prior import default_pose_prior
    from hoi_perception.metrics import accel_error, pa_mpjpe
    from hoi_perception.motion4d.evidence import ClipEvidence, collect
    from hoi_perception.motion4d.output import to_world
    from hoi_perception.motion4d.solve import ClipSolver

    root = shared_data_dir() / "video" / "parkour_dev"
    gt = np.load(root / "ground_truth.npz")
    names = [str(n) for n in gt["joint_names"]]
    gi = [names.index(n) for n in PARKOUR_JOINTS]
    ai = [BODY_JOINTS.index(ANNY_OF[n]) for n in PARKOUR_JOINTS]
    force_names = [str(n) for n in gt["contact_forces_names"]]
    model, prior = body_model(), default_pose_prior()
    solver, fitter = ClipSolver(model, prior), BodyFitter(model, prior)
    work = Path(cache) if cache else Path(tempfile.mkdtemp(prefix="bench_motion4d_"))
    rows = []
    for video in sorted(root.glob("*.mp4")):
        if videos and not any(video.stem.startswith(v) for v in videos.split(",")):
            continue
        joints = gt[f"{video.stem}__joint_3d_positions"]
        usable = len(joints) - 3  # the dataset's pairing: frame i <-> index i for i < N - 3
        d = work / video.stem
        if (d / "evidence.npz").is_file():
            ev = ClipEvidence.load(d / "evidence.npz")
        else:
            t0 = time.perf_counter()
            ev = collect(video, d, max_frames=usable, fps=PARKOUR_FPS)
            ev.save(d / "evidence.npz")
            print(f"{video.stem}: front end {time.perf_counter() - t0:.1f} s for {ev.num_frames} frames", flush=True)
        sol = solver.solve(ev)
        frames = [t for t in range(ev.num_frames) if sol.solved[t] and ev.frame_index[t] < usable]
        g = np.stack([joints[ev.frame_index[t]][gi] for t in frames])
        solved = sol.joints[frames][:, ai]
        front = np.stack([ev.world[t][[ev.keypoint_names.index(ANNY_OF[n]) for n in PARKOUR_JOINTS]] for t in frames])
        pa_solved = np.array([pa_mpjpe(p, q) for p, q in zip(solved, g)])
        pa_front = np.array([pa_mpjpe(p, q) for p, q in zip(front, g)])
        # the per-frame fit on every fit_stride-th solved frame
        fit_frames = frames[::fit_stride] if fit_stride > 0 else []  # 0: the solve alone (the fit is slow)
        pa_fit, fit_seconds = _per_frame_fits(ev, fit_frames, fitter, d / f"per_frame_fit_{fit_stride}.npz",
                                              lambda j, t, joints=joints, ev=ev: pa_mpjpe(j[ai], joints[ev.frame_index[t]][gi]))
        sel = [frames.index(t) for t in fit_frames]
        # the whole clip in the Vicon frame by one similarity: travel, floating and jitter count
        seq = _similarity_align(solved.reshape(-1, 3), g.reshape(-1, 3)).reshape(g.shape)
        contiguous = np.all(np.diff(frames) == 1) if len(frames) > 2 else False
        row = {"video": video.stem, "frames": len(frames), "fit_frames": len(fit_frames),
               "solved_pa_mpjpe_mm": float(pa_solved.mean()), "frontend_pa_mpjpe_mm": float(pa_front.mean()),
               "fit_pa_mpjpe_mm": float(np.mean(pa_fit)) if pa_fit else float("nan"),
               "solved_minus_fit_mm": _mean_se(pa_solved[sel] - np.array(pa_fit)) if pa_fit else (float("nan"),) * 2,
               "solved_minus_frontend_mm": _mean_se(pa_solved - pa_front),
               "solved_sequence_mpjpe_mm": float(1000 * np.linalg.norm(seq - g, axis=-1).mean()),
               "solve_seconds_per_frame": sol.seconds / max(int(sol.solved.sum()), 1),
               "fit_seconds_per_frame": fit_seconds, "ground": sol.ground_source}
        if contiguous:
            front_seq = np.stack([_similarity_align(f, q) for f, q in zip(front, g)])  # per frame: it has no travel
            row["solved_accel_error_mm"] = accel_error(np.stack([_similarity_align(p, q) for p, q in zip(solved, g)]), g)
            row["frontend_accel_error_mm"] = accel_error(front_seq, g)
        # contacts against the force sensors
        forces = gt[f"{video.stem}__contact_forces_local"]
        missing = gt[f"{video.stem}__mask_uncaptured_forces"].astype(bool)
        idx = [ev.frame_index[t] for t in frames]
        touching = (np.linalg.norm(forces[idx, :, :3], axis=-1) > FORCE_N) & ~missing[idx]
        world = to_world(sol.joints[frames], sol.world_from_camera)
        hands = _hand_contacts(world, ev.fps)
        feet = np.stack([sol.foot_contact[frames][:, [0, 2]].any(1), sol.foot_contact[frames][:, [1, 3]].any(1)], 1)
        pred = {"l_fingers": hands[:, 0], "r_fingers": hands[:, 1], "l_ankle": feet[:, 0], "r_ankle": feet[:, 1]}
        row["contact_truth"] = {n: touching[:, force_names.index(n)].tolist() for n in pred}
        row["contact_pred"] = {n: v.tolist() for n, v in pred.items()}
        rows.append(row)
        print(f"{video.stem}: PA-MPJPE solved {row['solved_pa_mpjpe_mm']:.1f} mm, per-frame fit {row['fit_pa_mpjpe_mm']:.1f} "
              f"(paired solved - fit {row['solved_minus_fit_mm'][0]:+.1f} +- {row['solved_minus_fit_mm'][1]:.1f}), front end "
              f"{row['frontend_pa_mpjpe_mm']:.1f}; {len(frames)} frames, solve {row['solve_seconds_per_frame']:.2f} s/frame, "
              f"per-frame fit {fit_seconds:.2f} s/frame", flush=True)
    out = {"videos": rows}
    for key in ("solved_pa_mpjpe_mm", "frontend_pa_mpjpe_mm", "solved_sequence_mpjpe_mm",
                "solved_accel_error_mm", "frontend_accel_error_mm"):
        vals = [r[key] for r in rows if key in r]
        if vals:
            out[key] = _mean_se(vals)
    if fit_stride > 0:
        out["fit_pa_mpjpe_mm"] = _mean_se([r["fit_pa_mpjpe_mm"] for r in rows])
        out["solved_minus_fit_mm"] = _mean_se([r["solved_pa_mpjpe_mm"] - r["fit_pa_mpjpe_mm"] for r in rows])
    out["solved_minus_frontend_mm"] = _mean_se([r["solved_pa_mpjpe_mm"] - r["frontend_pa_mpjpe_mm"] for r in rows])
    for group, members in (("hands_on_bar", ("l_fingers", "r_fingers")), ("feet_on_ground", ("l_ankle", "r_ankle"))):
        truth = np.concatenate([np.asarray(r["contact_truth"][m], bool) for r in rows for m in members])
        pred = np.concatenate([np.asarray(r["contact_pred"][m], bool) for r in rows for m in members])
        out[f"contacts_{group}"] = _contact_scores(pred, truth)
    return out


# -- synthetic: mocap rendered through the engine, with 4D truth ---------------------------------------
SYNTHETIC = ("ballplay_still", "cmu131_moving")  # made by `python -m hoi_perception.synth.mocap_video`
FOOT_JOINTS = ("left_ankle", "right_ankle", "left_foot", "right_foot")
MOTION_FRAMES = 24  # consecutive frames the per-frame fit runs on for acceleration and skating


def _truth_contact_pairs(truth: dict, sol, ev, n_pairs: int, model) -> list[dict]:
    """``n_pairs`` annotated pairs as a person would add them: the hand-object contact frames split
    into ``n_pairs`` ranges; in each, the point of the solved object's surface that faces the true
    hand (clicked on the object) and the body vertex nearest the true ball (clicked on the palm)."""
    import torch

    from hoi_perception.body.interface import BodyParams
    from hoi_perception.metrics import contact_runs

    names = [str(n) for n in truth["contact_names"]]
    if "hands:object" not in names or n_pairs == 0:
        return []
    touching = truth["contacts"][:, names.index("hands:object")] > 0.5
    frames = [t for a, b in contact_runs(touching) for t in range(a, b)]
    if not frames:
        return []
    chunks = [c for c in np.array_split(np.array(frames), n_pairs) if len(c)]
    with torch.no_grad():
        verts = model(BodyParams(*(torch.as_tensor(truth[k], dtype=torch.float32) for k in
                                   ("body_shape", "body_pose", "body_global_orient", "body_transl"))), validate=False).vertices
    pairs = []
    for i, chunk in enumerate(chunks):
        # a range covers contiguous contact frames only
        run = chunk[:np.argmax(np.diff(np.r_[chunk, chunk[-1] + 2]) > 1) + 1]
        m = int(run[len(run) // 2])
        centre = truth["object_pose_world"][m, :3, 3]
        v = verts[m].numpy()
        vertex = int(np.argmin(np.linalg.norm(v - centre, axis=1)))
        # the solved object's surface point in the direction of that vertex from its centre, template frame
        direction = (v[vertex] - centre) / np.linalg.norm(v[vertex] - centre)
        pose = sol.object_pose[m]
        scale = np.cbrt(abs(np.linalg.det(pose[:3, :3])))
        radius = float(np.linalg.norm(_template_points(sol.object_id), axis=1).mean())
        cam = truth["camera_from_world"][m]
        local = _template_points(sol.object_id, centred=False).mean(0) + (pose[:3, :3] / scale).T @ (cam[:3, :3] @ direction) * radius
        pairs.append({"id": f"p{i + 1}", "frames": [int(run[0]), int(run[-1])], "object_point": local.tolist(),
                      "target": {"vertex": vertex}})
    return pairs


def _template_points(object_id: str, centred: bool = True) -> np.ndarray:
    from hoi_perception.assets import object_library

    pts = np.asarray(object_library().get(object_id).surface_points, np.float64)
    return pts - pts.mean(0) if centred else pts


def _object_centre(sol, frames) -> np.ndarray:
    """(len(frames), 3) camera-frame centre of the solved object's surface."""
    pose = sol.object_pose[frames]
    return pose[:, :3, :3] @ _template_points(sol.object_id, centred=False).mean(0) + pose[:, :3, 3]


def _world(points_cam: np.ndarray, camera_from_world: np.ndarray) -> np.ndarray:
    """(T, N, 3) camera-frame points -> the truth's world frame through each frame's true camera."""
    inv = np.linalg.inv(camera_from_world)
    return np.einsum("tij,tnj->tni", inv[:, :3, :3], points_cam) + inv[:, None, :3, 3]


def _longest_run(frames: list[int]) -> list[int]:
    """Positions in ``frames`` of its longest run of consecutive frame numbers."""
    best, start = (0, 0), 0
    for i in range(1, len(frames) + 1):
        if i == len(frames) or frames[i] != frames[i - 1] + 1:
            best = max(best, (i - start, start))
            start = i
    return list(range(best[1], best[1] + best[0]))


def _synthetic_metrics(truth: dict, joints_cam: np.ndarray, frames: list[int], model=None, sol=None) -> dict:
    from hoi_perception.body.joints import BODY_JOINTS
    from hoi_perception.metrics import accel_error, foot_skating, pa_mpjpe

    cam = truth["camera_from_world"][frames]
    g = truth["joints_world"][frames].astype(np.float64)
    w = _world(joints_cam, cam)
    out = {"w_mpjpe_mm": float(1000 * np.linalg.norm(w - g, axis=-1).mean()),
           "pa_mpjpe_mm": float(np.mean([pa_mpjpe(p, q) for p, q in zip(w, g)]))}
    run = _longest_run(frames)  # motion metrics need consecutive frames: the longest run of them
    if len(run) > 2:
        w_run, g_run = w[run], g[run]
        out["accel_error_mm"] = accel_error(w_run, g_run)
        out["accel_frames"] = len(run)
        feet = [BODY_JOINTS.index(n) for n in FOOT_JOINTS]
        gf = g_run[:, feet]
        speed = np.linalg.norm(np.gradient(gf, axis=0), axis=-1) * float(truth["fps"])
        # a true ground contact: a foot joint within 3 cm of its lowest height in the clip and still
        low = truth["joints_world"][:, feet, 2].min(0)
        contact = (gf[..., 2] < low + 0.03) & (speed < 0.2)
        out["foot_skating_cm"] = 100 * foot_skating(w_run[:, feet], contact)
        out["truth_foot_skating_cm"] = 100 * foot_skating(gf, contact)
    if sol is not None and sol.object_id and truth["object_valid"][frames].any():
        centre = _world(_object_centre(sol, frames)[:, None], cam)[:, 0]
        ok = truth["object_valid"][frames]
        true_centre = truth["object_pose_world"][frames][:, :3, 3]
        out["object_position_cm"] = float(100 * np.linalg.norm(centre - true_centre, axis=1)[ok].mean())
        # where the object is relative to the body (its pelvis): what contacts and pairs can fix, apart
        # from the whole scene's depth, which a single camera leaves uncertain
        rel = (centre - w[:, 0]) - (true_centre - g[:, 0])
        out["object_to_pelvis_cm"] = float(100 * np.linalg.norm(rel, axis=1)[ok].mean())
        names = [str(n) for n in truth["contact_names"]]
        if "hands:object" in names and model is not None:
            out.update(_contact_and_penetration(truth, sol, frames, model, names.index("hands:object")))
    return out


def _contact_and_penetration(truth, sol, frames, model, column) -> dict:
    """In the true hand-object contact frames, the gap between the solved body and the solved object
    (cm); over all frames, how deep the solved body goes into the solved object (cm, the deepest
    vertex per frame, mean)."""
    from hoi_perception.motion4d.output import body_vertices

    pts = _template_points(sol.object_id)
    radius = float(np.linalg.norm(pts, axis=1).mean())
    gap, depth = [], []
    for i in range(0, len(frames), 32):
        chunk = frames[i:i + 32]
        v = body_vertices(model, sol, chunk)
        for t, vt, c in zip(chunk, v, _object_centre(sol, chunk)):
            scale = np.cbrt(abs(np.linalg.det(sol.object_pose[t][:3, :3])))
            # a sphere: the distance to its surface is the distance to its centre less its radius
            d = np.linalg.norm(vt - c, axis=1) - scale * radius
            depth.append(max(0.0, -float(d.min())))
            if truth["contacts"][t, column] > 0.5:
                gap.append(max(0.0, float(d.min())))
    return {"contact_gap_cm": 100 * float(np.mean(gap)) if gap else float("nan"),
            "penetration_cm": 100 * float(np.mean(depth))}


def synthetic_part(root: Path, cache: Path | None = None, fit_stride: int = 4, pair_counts=(0, 2, 8)) -> dict:
    from hoi_perception.assets import body_model
    from hoi_perception.fitting.body_fit import BodyFitter
    from hoi_perception.fitting.pose_prior import default_pose_prior
    from hoi_perception.motion4d.evidence import ClipEvidence, collect
    from hoi_perception.motion4d.solve import ClipSolver

    model, prior = body_model(), default_pose_prior()
    solver, fitter = ClipSolver(model, prior), BodyFitter(model, prior)
    work = Path(cache) if cache else Path(tempfile.mkdtemp(prefix="bench_motion4d_"))
    rows = []
    for name in SYNTHETIC:
        src = Path(root) / name
        if not (src / "truth.npz").is_file():
            print(f"{name}: no {src / 'truth.npz'} (make it with python -m hoi_perception.synth.mocap_video): skipped")
            continue
        truth = dict(np.load(src / "truth.npz"))
        template = str(truth["object_template"]) or None
        masks = None
        if template and (src / "object_masks.npz").is_file():
            with np.load(src / "object_masks.npz") as z:
                packed, shape = z["object"], tuple(z["shape"])
            masks = np.unpackbits(packed, axis=-1)[..., :shape[-1]].astype(bool)
        d = work / name
        if (d / "evidence.npz").is_file():
            ev = ClipEvidence.load(d / "evidence.npz")
        else:
            t0 = time.perf_counter()
            ev = collect(src / "video.mp4", d, camera=truth["K"], fps=float(truth["fps"]), object_template=template,
                         object_masks=None if masks is None else (lambda i, m=masks: m[i]))
            ev.save(d / "evidence.npz")
            print(f"{name}: evidence {time.perf_counter() - t0:.1f} s for {ev.num_frames} frames", flush=True)
        row = {"clip": name, "camera": str(truth["camera"]), "object": template or ""}
        base = solver.solve(ev)
        frames = [t for t in range(ev.num_frames) if base.solved[t]]
        for n_pairs in pair_counts if template else (0,):
            sol = base if n_pairs == 0 else solver.solve(ev, {"pairs": _truth_contact_pairs(truth, base, ev, n_pairs, model),
                                                             "object_static": False, "object_scale": None})
            row[f"solved_{n_pairs}_pairs"] = {**_synthetic_metrics(truth, sol.joints[frames], frames, model, sol),
                                              "seconds_per_frame": sol.seconds / len(frames)}
        fit_frames = frames[::fit_stride]
        pf, fit_seconds = _per_frame_fits(ev, fit_frames, fitter, d / f"per_frame_fit_{fit_stride}.npz", lambda j, t: j)
        row["per_frame_fit"] = {**_synthetic_metrics(truth, np.stack(pf), fit_frames), "seconds_per_frame": fit_seconds}
        row["solved_on_fit_frames"] = _synthetic_metrics(truth, base.joints[fit_frames], fit_frames)
        # motion: the per-frame fit on the first MOTION_FRAMES of the longest run of consecutive frames
        run = [frames[i] for i in _longest_run(frames)][:MOTION_FRAMES]
        pr, _ = _per_frame_fits(ev, run, fitter, d / "per_frame_fit_run.npz", lambda j, t: j)
        row["per_frame_fit_run"] = _synthetic_metrics(truth, np.stack(pr), run)
        row["solved_run"] = _synthetic_metrics(truth, base.joints[run], run)
        rows.append(row)
        for k, v in row.items():
            if isinstance(v, dict):
                print(f"{name} {k}: " + ", ".join(f"{m} {x:.2f}" for m, x in v.items()), flush=True)
    return {"clips": rows}


def annotation_part(root: Path, cache: Path | None = None) -> dict:
    """The annotation loop on the synthetic ball-play clip (4 s at 25 fps): two contact pairs are
    added to its solved folder and the clip is re-solved as the page does (from the last solution):
    the seconds a person waits, and the pairs' residuals."""
    import shutil

    from hoi_perception.assets import body_model
    from hoi_perception.motion4d import annotations as A
    from hoi_perception.motion4d.evidence import ClipEvidence
    from hoi_perception.motion4d.reconstruct import _solver, load_solution, resolve, solve_and_write

    name = SYNTHETIC[0]
    src = (Path(cache) if cache else Path(tempfile.mkdtemp(prefix="bench_annotation_"))) / name
    if not (src / "evidence.npz").is_file():
        raise SystemExit(f"annotation: run --parts synthetic with the same --cache first (no {src / 'evidence.npz'})")
    truth = dict(np.load(Path(root) / name / "truth.npz"))
    d = Path(tempfile.mkdtemp(prefix="bench_annotation_")) / name
    d.mkdir(parents=True)
    shutil.copy(src / "evidence.npz", d / "evidence.npz")
    shutil.copytree(src / "frames", d / "frames")
    ev = ClipEvidence.load(d / "evidence.npz")
    solver = _solver()
    t0 = time.perf_counter()
    solve_and_write(d, ev, solver, videos=False)
    first = time.perf_counter() - t0
    sol = load_solution(d)
    pairs = _truth_contact_pairs(truth, sol, ev, 2, body_model())
    A.save(d, {"pairs": pairs}, num_frames=ev.num_frames)
    t0 = time.perf_counter()
    summary = resolve(d, solver, videos=False)
    seconds = time.perf_counter() - t0
    print(f"annotation loop: {len(pairs)} pairs, re-solve of a {ev.num_frames}-frame clip ({ev.num_frames / ev.fps:.1f} s) "
          f"took {seconds:.1f} s (the first solve {first:.1f} s); residuals {summary['pair_residuals']}", flush=True)
    return {"frames": ev.num_frames, "clip_seconds": ev.num_frames / ev.fps, "resolve_seconds": seconds,
            "first_solve_seconds": first, "pair_residuals_m": summary["pair_residuals"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="hoi-perception bench motion4d", description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="parkour")
    ap.add_argument("--videos", default="", help="parkour: only the videos whose names start with these (comma list)")
    ap.add_argument("--fit-stride", type=int, default=4,
                    help="the per-frame fit on every k-th solved frame (parkour: 0 skips it; synthetic: 0 means 4)")
    ap.add_argument("--cache", default=None, help="keep the front end's evidence here between runs")
    ap.add_argument("--synthetic", default="data/mocap4d", help="synthetic: folder of rendered mocap clips")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = {}
    for part in args.parts.split(","):
        if part == "parkour":
            out[part] = parkour_part(args.videos, args.fit_stride, args.cache)
        elif part == "synthetic":
            out[part] = synthetic_part(Path(args.synthetic), args.cache, args.fit_stride or 4)
        elif part == "annotation":
            out[part] = annotation_part(Path(args.synthetic), args.cache)
        else:
            raise SystemExit(f"unknown part {part!r} (parkour, synthetic, annotation)")
    for part, res in out.items():
        for k, v in res.items():
            if k != "videos":
                print(f"{part} {k}: {v}")
    if args.json:
        print(json.dumps(out))
    return 0
