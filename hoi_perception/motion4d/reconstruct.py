"""Video -> 4D clip folder, and the re-solve after annotations.

``reconstruct_video(VIDEO, DIR)`` runs the front end (and the object network where a template is
named) over the video once (`evidence.py`), solves the clip (`solve.py`) with the annotations
already in DIR, and writes:

    DIR/frames/<t>.jpg      the sampled frames        DIR/evidence.npz   what the solve is fitted to
    DIR/solution.npz        the solved clip           DIR/clip.npz       the imitation clip (world frame)
    DIR/overlay.mp4         solved meshes on frames   DIR/side.mp4       the world-frame side view
    DIR/annotations.json    a person's pairs (kept)   DIR/summary.json   written last; "status": "done"

``resolve(DIR)`` re-solves from evidence.npz and the current annotations (no detector runs).
Every file is written atomically; the annotation file is only ever read here.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from hoi_perception.atomic_files import atomic_write_bytes

from . import annotations as A
from .evidence import ClipEvidence, collect
from .output import write_imitation_clip, write_videos
from .solve import ClipSolution, ClipSolver, ClipSolveSettings

log = logging.getLogger("hoi_perception.motion4d")
SUMMARY = "summary.json"


def _solver(settings: ClipSolveSettings | None = None) -> ClipSolver:
    from hoi_perception.assets import body_model
    from hoi_perception.fitting.pose_prior import default_pose_prior

    return ClipSolver(body_model(), default_pose_prior(), settings)


def _write_summary(out_dir: Path, data: dict) -> None:
    atomic_write_bytes(out_dir / SUMMARY, (json.dumps(data, indent=1) + "\n").encode())


def read_summary(out_dir) -> dict | None:
    try:
        return json.loads((Path(out_dir) / SUMMARY).read_text())
    except (OSError, ValueError):
        return None


def solve_and_write(out_dir: Path, ev: ClipEvidence, solver: ClipSolver | None = None, videos: bool = True,
                    extra: dict | None = None, previous: ClipSolution | None = None) -> dict:
    """Solve with the folder's annotations (from ``previous`` where given: a re-solve) and write
    solution, imitation clip, videos, summary."""
    out_dir = Path(out_dir)
    solver = solver or _solver()
    model = solver.model
    notes = A.load(out_dir, num_frames=ev.num_frames, num_vertices=model.num_vertices, has_object=bool(ev.object_id))
    sol = solver.solve(ev, notes, previous)
    sol.save(out_dir / "solution.npz")
    t0 = time.perf_counter()
    clip_path = write_imitation_clip(sol, ev, out_dir / "clip.npz")
    files = [clip_path.name]
    if videos:
        files += [p.name for p in write_videos(model, sol, ev, out_dir)]
    summary = {
        "status": "done", "video": ev.video, "frames": ev.num_frames, "fps": ev.fps,
        "solved_frames": int(sol.solved.sum()), "segments": [list(s) for s in sol.segments],
        "ground": sol.ground_source, "camera": "still (assumed)", "object": sol.object_id or None,
        "object_frames_seen": int(sol.object_seen.sum()) if sol.object_id else None,
        "annotated_pairs": len(notes["pairs"]), "pair_residuals": sol.pair_residuals, "warnings": sol.warnings,
        "terms": sol.terms, "seconds": {"solve": round(sol.seconds, 2), "write": round(time.perf_counter() - t0, 2)},
        "files": files,
        # a re-solve without videos leaves the earlier ones showing the earlier solution
        "videos_current": bool(videos),
    }
    if extra:
        summary.update(extra)
    _write_summary(out_dir, summary)
    return summary


def reconstruct_video(video, out_dir, object_template: str | None = None, stride: int = 1,
                      max_frames: int | None = None, fov_deg: float = 60.0, camera=None, object_masks=None,
                      videos: bool = True, settings: ClipSolveSettings | None = None, fps: float | None = None) -> dict:
    """The whole job for one video; returns the summary (also in DIR/summary.json)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    done = read_summary(out_dir)
    if done is not None and done.get("status") == "done":
        # a folder from an earlier run: it is re-solved, its annotations kept
        log.info("%s: re-running over an earlier result; annotations kept", out_dir)
    _write_summary(out_dir, {"status": "running", "video": str(video)})
    t0 = time.perf_counter()
    ev = collect(Path(video), out_dir, camera=camera, fov_deg=fov_deg, stride=stride, max_frames=max_frames,
                 object_template=object_template, object_masks=object_masks, fps=fps)
    ev.save(out_dir / "evidence.npz")
    seconds_evidence = time.perf_counter() - t0
    try:
        summary = solve_and_write(out_dir, ev, _solver(settings), videos=videos,
                                  extra={"seconds_evidence": round(seconds_evidence, 2)})
    except ValueError as exc:  # nothing to solve (no person): say so in the summary too
        _write_summary(out_dir, {"status": "failed", "video": str(video), "error": str(exc)})
        raise
    summary["seconds"]["evidence"] = round(seconds_evidence, 2)
    _write_summary(out_dir, summary)
    return summary


def resolve(out_dir, solver: ClipSolver | None = None, videos: bool = True) -> dict:
    """Re-solve a clip folder with its current annotations, from its last solution (the detectors do
    not run again)."""
    out_dir = Path(out_dir)
    if not (out_dir / "evidence.npz").is_file():
        raise FileNotFoundError(f"{out_dir}: no evidence.npz: not a clip folder made by `hoi-perception reconstruct`")
    ev = ClipEvidence.load(out_dir / "evidence.npz")
    summary = read_summary(out_dir) or {}
    extra = {k: summary[k] for k in ("seconds_evidence",) if k in summary}
    previous = None
    if (out_dir / "solution.npz").is_file():
        try:
            previous = ClipSolution.load(out_dir / "solution.npz")
        except (OSError, KeyError, ValueError) as exc:
            log.warning("%s: the last solution is unreadable (%s): solving afresh", out_dir, exc)
    return solve_and_write(out_dir, ev, solver, videos=videos, extra=extra, previous=previous)


def load_solution(out_dir) -> ClipSolution:
    return ClipSolution.load(Path(out_dir) / "solution.npz")

