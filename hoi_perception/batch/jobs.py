"""The two kinds of batch job: item lists, task functions (run in Ray workers) and done checks.

reconstruct: one video -> one 4D clip folder OUT/<stem>/ (motion4d.reconstruct.reconstruct_video);
    done when OUT/<stem>/summary.json says "status": "done" (written last, atomically).
synth: one shard of a synthetic dataset (synth.generate.write_shard); done when the dataset's
    manifest lists it (checked and hash-verified by synth.generate.plan_dataset, as `synth` does).
Task functions are top-level and their payloads plain dataclasses, so Ray pickles them by reference.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .executor import Item

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")
SUMMARY = "summary.json"


# --- reconstruct ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReconstructJob:
    video: Path
    out_dir: Path
    object_template: str | None = None
    stride: int = 1
    max_frames: int | None = None


def find_videos(video_dir) -> list[Path]:
    """The videos directly in `video_dir` (not in sub-folders), sorted by name."""
    return sorted(p for p in Path(video_dir).iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def reconstruct_items(video_dir, out, object_template: str | None = None, stride: int = 1,
                      max_frames: int | None = None) -> list[Item]:
    """One item per video, id = its stem (also the name of its clip folder under `out`).

    Paths are made absolute: a worker on another node runs in another folder (the video folder and
    `out` must be on storage every node mounts at the same path). `object_template` is a library id."""
    videos = find_videos(video_dir)
    by_stem: dict[str, list[str]] = {}
    for v in videos:
        by_stem.setdefault(v.stem, []).append(v.name)
    clashes = {s: names for s, names in by_stem.items() if len(names) > 1}
    if clashes:
        raise ValueError("videos that would share a clip folder (same name, other extension): "
                         + "; ".join(", ".join(names) for names in clashes.values()))
    out = Path(out).resolve()
    return [Item(v.stem, ReconstructJob(v.resolve(), out / v.stem, object_template, stride, max_frames))
            for v in videos]


def clip_done(out_dir) -> bool:
    try:
        summary = json.loads((Path(out_dir) / SUMMARY).read_bytes())
    except (OSError, ValueError):  # missing, or unreadable: not done
        return False
    return isinstance(summary, dict) and summary.get("status") == "done"


def reconstruct_done(item: Item) -> bool:
    return clip_done(item.payload.out_dir)


def _describe_clip(summary: Any, out_dir: Path) -> str:
    """One line from reconstruct_video's summary: frames, solved frames, object, warnings; the folder."""
    parts = []
    if isinstance(summary, dict):
        parts = [f"{k}={summary[k]}" for k in ("frames", "solved_frames", "object") if summary.get(k) is not None]
        if summary.get("warnings"):
            parts.append(f"{len(summary['warnings'])} warning(s)")
    return ", ".join(parts + [f"-> {out_dir}"])


def reconstruct_task(item: Item) -> dict:
    from hoi_perception.motion4d.reconstruct import reconstruct_video

    job: ReconstructJob = item.payload
    result = reconstruct_video(job.video, job.out_dir, object_template=job.object_template, stride=job.stride,
                               max_frames=job.max_frames)
    # Done means what a rerun will check, so a clip that is not marked done is not reported ok.
    if not clip_done(job.out_dir):
        raise RuntimeError(f"reconstruct_video returned but {job.out_dir / SUMMARY} does not say \"status\": \"done\"")
    return {"message": _describe_clip(result, job.out_dir)}


# --- synth ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShardJob:
    out: Path
    shard_id: int
    shard_size: int
    n: int
    kind: str
    seed: int
    make_sample: Callable
    compression: str = "none"
    worker_init: Callable | None = None


def shard_item_id(shard_id: int) -> str:
    return f"shard-{shard_id:06d}"


def synth_items(out, n: int, shard_size: int, kind: str, seed: int, make_sample: Callable,
                compression: str = "none", worker_init: Callable | None = None) -> list[Item]:
    """One item per shard of the whole dataset (finished ones are skipped through `is_done`)."""
    out = Path(out).resolve()
    return [Item(shard_item_id(j), ShardJob(out, j, shard_size, n, kind, seed, make_sample, compression, worker_init))
            for j in range(-(-n // shard_size))]


def synth_task(item: Item) -> dict:
    from hoi_perception.synth.generate import write_shard

    job: ShardJob = item.payload
    if job.worker_init is not None:
        job.worker_init()  # as generate_dataset's pool initializer; cached, so cheap after the first shard
    entry = write_shard(job.out, job.shard_id, job.shard_size, job.n, job.kind, job.seed, job.make_sample,
                        job.compression)
    return {"message": f"{entry['count']} samples, {entry['bytes']} bytes", "entry": entry}


class ManifestRecorder:
    """Driver side of synth: lists each finished shard in the manifest as `generate_dataset` does
    (only finished shards are listed, the manifest replaced atomically), so both resume alike."""

    def __init__(self, out, manifest: dict, todo: list[int]):
        self.out = Path(out)
        self.manifest = manifest
        self.todo = set(todo)

    def is_done(self, item: Item) -> bool:
        return item.payload.shard_id not in self.todo

    def __call__(self, item: Item, result: dict) -> None:
        from hoi_perception.synth import shards as S

        self.manifest["shards"].append(result["entry"])
        S.write_manifest(self.out, self.manifest)
