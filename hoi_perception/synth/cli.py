"""`hoi-perception synth`: generate a synthetic HOI dataset (sharded, resumable, deterministic).

    hoi-perception synth --kind fullbody --n 2000 --seed 0 --out data/fullbody_train
    hoi-perception synth --kind hand --n 500 --seed 1 --split heldout --out data/hand_test

The same arguments on the same folder resume an interrupted run; the same seed gives the same
bytes whatever the number of workers.
"""
from __future__ import annotations

import argparse
import os

from hoi_perception.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: one per core)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """What the dataset is made of (shared with `hoi-perception batch synth`, which has its own workers)."""
    parser.add_argument("--kind", required=True, choices=("fullbody", "hand"),
                        help="fullbody: one scene, two wide-baseline views; hand: a clip of a held object")
    parser.add_argument("--n", type=int, required=True, help="number of samples (clips for --kind hand)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    parser.add_argument("--out", required=True, help="output folder (created; resumed if it holds the same run)")
    parser.add_argument("--split", default="train", choices=("train", "heldout"),
                        help="object split: heldout uses objects never seen in training")
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    parser.add_argument("--frames", type=int, default=6, help="frames per hand clip (default 6)")
    parser.add_argument("--framing", default="default", choices=("default", "closeup"),
                        help="hand clips: default (hand and object fill 55-85 %% of the image) or closeup "
                             "(85-140 %%: the object large and often cut by the border, as a near camera sees it)")
    parser.add_argument("--distractors", type=int, default=0,
                        help="full-body scenes: up to this many untouched objects on the floor around the person "
                             "(0-6, default 0; clutter for the object segmenter)")
    parser.add_argument("--shard-size", type=int, default=256, help="samples per shard (default 256)")


def check_counts(args: argparse.Namespace) -> None:
    if args.n <= 0:
        raise CliError(f"--n must be positive, got {args.n}")
    if args.shard_size <= 0:
        raise CliError(f"--shard-size must be positive, got {args.shard_size}")


def sample_maker(args: argparse.Namespace):
    """The engine's SampleMaker for the dataset arguments; CliError for impossible ones."""
    from hoi_perception.synth import engine

    check_counts(args)
    try:
        if args.framing != "default" and args.kind != "hand":
            raise CliError("--framing applies to hand clips only (--kind hand)")
        if args.distractors and args.kind != "fullbody":
            raise CliError("--distractors applies to full-body scenes only (--kind fullbody)")
        return engine.SampleMaker(args.split, args.size, args.frames, args.framing, args.distractors)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def main(args: argparse.Namespace) -> int:
    from hoi_perception.synth import engine
    from hoi_perception.synth.generate import DatasetMismatchError, DiskFullError, generate_dataset

    check_counts(args)
    if args.workers < 0:
        raise CliError(f"--workers must be >= 0, got {args.workers}")
    maker = sample_maker(args)
    try:
        manifest = generate_dataset(
            args.out, args.kind, args.n, args.seed, maker, shard_size=args.shard_size,
            workers=args.workers, progress=not args.no_progress,
            generator_version=engine.GENERATOR_VERSION, params=maker.params(),
            worker_init=engine.warm_up_worker,
        )
    except (DatasetMismatchError, DiskFullError, PermissionError, FileExistsError, NotADirectoryError) as exc:
        raise CliError(str(exc)) from exc
    print(summary_line(manifest, args))
    return 0


def summary_line(manifest: dict, args: argparse.Namespace) -> str:
    return (f"{manifest['total']} {args.kind} samples in {len(manifest['shards'])} shard(s) at {args.out} "
            f"(content hash {manifest['content_hash'][:16]})")
