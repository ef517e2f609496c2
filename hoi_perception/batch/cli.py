"""`hoi-perception batch`: many independent jobs as Ray tasks, on a local Ray cluster or an existing one.

    hoi-perception batch reconstruct videos/ --out clips/ --workers 8
    hoi-perception batch synth --kind hand --n 20000 --seed 0 --shard-size 256 --out data/hand --address HOST:6379

Resumable: re-running the same command skips what is done (a clip whose summary.json says done,
a shard the manifest lists). Every finished item updates a JSON report; the exit code is 0 only
when every item succeeded (1 when some failed, 2 for a usage error).
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from hoi_perception.cli import CliError

REPORT = "batch_report.json"


def _cluster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default=None,
                        help="existing Ray cluster (e.g. HOST:6379 from `ray start --head`); default: start a "
                             "local cluster for this batch")
    parser.add_argument("--workers", type=int, default=None,
                        help="CPUs of the local cluster (default: all cores); not with --address")
    parser.add_argument("--cpus-per-task", type=float, default=1.0,
                        help="CPUs Ray reserves for each task (default 1)")
    parser.add_argument("--report", default=None, help="report JSON path (default: see the sub-command)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="job", metavar="JOB")
    sub.required = True
    rec = sub.add_parser("reconstruct", help="every video of a folder -> one 4D clip folder each",
                         description="Every video (*.mp4, *.avi, *.mov, *.mkv) directly in VIDEO_DIR -> OUT/<stem>/. "
                                     f"Report: OUT/{REPORT}.")
    rec.add_argument("video_dir", metavar="VIDEO_DIR", help="folder of videos")
    rec.add_argument("--out", required=True, help="output folder: one clip folder per video")
    rec.add_argument("--object", dest="object_template", default=None,
                     help="object library id of the handled object (the same for every video)")
    rec.add_argument("--stride", type=int, default=1, help="use every K-th frame (default 1)")
    rec.add_argument("--max-frames", type=int, default=None, help="at most N frames per video")
    _cluster_arguments(rec)

    from hoi_perception.synth.cli import add_dataset_arguments

    syn = sub.add_parser("synth", help="a synthetic dataset, one Ray task per shard (same files as `synth`)",
                         description="The files `hoi-perception synth` makes for the same arguments, one Ray task "
                                     f"per shard. Report: beside OUT, as OUT.{REPORT} (the dataset folder holds "
                                     "only the dataset).")
    add_dataset_arguments(syn)
    _cluster_arguments(syn)


def _check_cluster(args: argparse.Namespace) -> None:
    if args.workers is not None and args.address:
        raise CliError("--workers sets the size of a local cluster; with --address the cluster's own CPUs are used")
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers must be >= 1, got {args.workers}")
    if args.cpus_per_task <= 0:
        raise CliError(f"--cpus-per-task must be positive, got {args.cpus_per_task}")


def _run(args, items, task, report_path, title, **kw) -> dict:
    from .executor import ClusterConnectionError, run_batch

    try:
        return run_batch(items, task, report_path, address=args.address, workers=args.workers,
                         num_cpus=args.cpus_per_task, title=title, **kw)
    except ClusterConnectionError as exc:
        raise CliError(str(exc)) from exc


def _outcome(report: dict, report_path) -> int:
    c = report["counts"]
    print(f"{c['ok']} ok, {c['skipped']} skipped, {c['failed']} failed of {report['total']}; report: {report_path}")
    return 1 if c["failed"] else 0


def main_reconstruct(args: argparse.Namespace) -> int:
    from . import jobs

    if args.stride < 1:
        raise CliError(f"--stride must be >= 1, got {args.stride}")
    if args.max_frames is not None and args.max_frames < 1:
        raise CliError(f"--max-frames must be >= 1, got {args.max_frames}")
    video_dir = Path(args.video_dir)
    if not video_dir.is_dir():
        raise CliError(f"{video_dir} is not a folder")
    try:
        items = jobs.reconstruct_items(video_dir, args.out, args.object_template, args.stride, args.max_frames)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if not items:
        raise CliError(f"no videos ({', '.join('*' + s for s in jobs.VIDEO_SUFFIXES)}) in {video_dir}")
    # find_spec, not import: the driver needs no models; a missing module is one clear error, not n failures
    if importlib.util.find_spec("hoi_perception.motion4d.reconstruct") is None:
        raise CliError("hoi_perception.motion4d.reconstruct is not available in this installation")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report_path = Path(args.report) if args.report else out / REPORT
    report = _run(args, items, jobs.reconstruct_task, report_path, "batch reconstruct",
                  is_done=jobs.reconstruct_done)
    return _outcome(report, report_path)


def main_synth(args: argparse.Namespace) -> int:
    from hoi_perception.synth import engine
    from hoi_perception.synth import shards as S
    from hoi_perception.synth.cli import sample_maker, summary_line
    from hoi_perception.synth.generate import DatasetMismatchError, plan_dataset

    from . import jobs

    maker = sample_maker(args)
    try:
        out, manifest, todo = plan_dataset(args.out, args.kind, args.n, args.seed, args.shard_size,
                                           generator_version=engine.GENERATOR_VERSION, params=maker.params())
        S.write_manifest(out, manifest)  # as generate_dataset: the folder is a (partial) dataset from here on
    except (DatasetMismatchError, S.ShardError, PermissionError, FileExistsError, NotADirectoryError) as exc:
        raise CliError(str(exc)) from exc
    recorder = jobs.ManifestRecorder(out, manifest, todo)
    items = jobs.synth_items(out, args.n, args.shard_size, args.kind, args.seed, maker,
                             worker_init=engine.warm_up_worker)
    report_path = Path(args.report) if args.report else out.with_name(f"{out.name}.{REPORT}")
    report = _run(args, items, jobs.synth_task, report_path, "batch synth", is_done=recorder.is_done,
                  on_result=recorder)
    code = _outcome(report, report_path)
    if code == 0:
        print(summary_line(S.read_manifest(out), args))
    return code


def main(args: argparse.Namespace) -> int:
    _check_cluster(args)
    return main_reconstruct(args) if args.job == "reconstruct" else main_synth(args)
