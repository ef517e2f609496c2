"""`hoi-perception run`: the pipeline without ROS, on a video, image folder, rosbag2 or camera.

Writes into --out: bag/ (rosbag2, MCAP: hoi_msgs results, compact unless --mesh-detail full, mesh
topology, /tf; MarkerArray and the input images on request), clips/ (motion clips, full-body only) and
report.json; meshes/ (PLY or GLB) and overlays/ (JPEG) only when asked, so that by default the runner
keeps up with the source.
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from pathlib import Path

from hoi_perception.cli import CliError

TASKS = ("fullbody", "handobject")
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal, as shells report it


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True,
                        help="video file, image folder, rosbag2 (folder, .mcap or .db3) or camera index")
    parser.add_argument("--out", required=True, type=Path, help="output folder (its bag/ must not exist yet)")
    parser.add_argument("--task", choices=TASKS, default=None,
                        help="fullbody (person + object from one image; masks optional) or handobject "
                             "(the object a hand holds, from 2-6 frames). Default: the --model's task; without "
                             "--model, fullbody when masks are given, else handobject")
    parser.add_argument("--model", default="",
                        help="trained model: a name under models/ or a model folder (default: the task's config)")
    parser.add_argument("--backend", choices=("", "onnxruntime", "torch", "tensorrt"), default="",
                        help="inference backend (default: the model card's, onnxruntime)")
    parser.add_argument("--device", choices=("", "cpu", "cuda"), default="",
                        help="cpu or cuda (GPU: torch, onnxruntime-gpu; tensorrt is always cuda); default: the backend's")
    parser.add_argument("--object", default="", help="restrict to this object template id (must be known to the model)")
    parser.add_argument("--max-frames", type=int, default=0, help="stop after this many source frames (0 = all)")
    parser.add_argument("--stride", type=int, default=1, help="use every n-th video frame")
    parser.add_argument("--hfov", type=float, default=60.0,
                        help="horizontal field of view in degrees (1-179) when no calibration is known")
    parser.add_argument("--intrinsics", default="",
                        help="fx,fy,cx,cy in pixels of the source images, used as given (never rescaled)")
    parser.add_argument("--image-topic", default="", help="image topic to read from a rosbag2")
    parser.add_argument("--person-masks", default="",
                        help="folder of person masks named like the frames (full body, optional: the front end finds "
                             "the person otherwise; see pipeline/mask_source.py)")
    parser.add_argument("--object-masks", default="", help="folder of object masks named like the frames (full body)")
    parser.add_argument("--record-images", action="store_true", help="also record the input images in the bag")
    parser.add_argument("--markers", action="store_true",
                        help="also record visualization_msgs/MarkerArray meshes in the bag (for viewers that do not "
                             "read hoi_msgs; about 9x the size of the results themselves)")
    parser.add_argument("--mesh-detail", choices=("compact", "full"), default="compact",
                        help="compact (default): results carry parameters, joints, and vertices and contacts on the "
                             "model's vertex subset, objects without inline meshes; full: the full meshes too "
                             "(a bag 23x larger for the full body, 32x for hand-object; meshes/, overlays/ and "
                             "--markers use them either way)")
    parser.add_argument("--mesh-format", choices=("ply", "glb"), default="ply")
    parser.add_argument("--mesh-every", type=int, default=0,
                        help="write meshes of every n-th result and of the last (default 0: none)")
    parser.add_argument("--overlay-every", type=int, default=0,
                        help="write an overlay image of every n-th result (default 0: none)")
    parser.add_argument("--no-progress", action="store_true")


def _default_model(task: str) -> str:
    from hoi_perception.pipeline.config import load_node_params

    return str(load_node_params(f"{task}_node").get("model", ""))


def _task(args) -> str:
    """--task, else the --model card's task, else fullbody with masks and handobject without."""
    if args.task:
        return args.task
    if args.model:
        from hoi_perception.pipeline.stages import ModelNotAvailable, read_model_card, resolve_model_dir

        try:
            return str(read_model_card(resolve_model_dir(args.model))["task"])
        except ModelNotAvailable as exc:
            raise CliError(str(exc)) from None
    return "fullbody" if args.object_masks else "handobject"


def _intrinsics(args) -> tuple[float, float, float, float] | None:
    if not args.intrinsics:
        return None
    try:
        values = tuple(float(x) for x in args.intrinsics.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise CliError(f"--intrinsics must be fx,fy,cx,cy, got {args.intrinsics!r}")
    if not all(math.isfinite(v) for v in values):
        raise CliError(f"--intrinsics: values must be finite numbers (not finite: {args.intrinsics!r})")
    if values[0] <= 0 or values[1] <= 0:
        raise CliError(f"--intrinsics: fx and fy must be positive, got {values[0]:g}, {values[1]:g}")
    return values


def _check_options(args) -> None:
    """Out-of-range options and an unusable --out, before anything is loaded."""
    if args.max_frames < 0 or args.stride < 1:
        raise CliError("--max-frames must be >= 0 and --stride >= 1")
    if not 1.0 < args.hfov < 179.0:
        raise CliError(f"--hfov must lie between 1 and 179 degrees, got {args.hfov:g}")
    if args.mesh_every < 0 or args.overlay_every < 0:
        raise CliError("--mesh-every and --overlay-every must be >= 0")
    out = args.out
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file, not a folder")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())  # created only once the run starts
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise CliError(f"--out {out} cannot be written ({existing} is not a writable folder)")


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hoi_perception.pipeline import mesh_detail
    from hoi_perception.pipeline.clip_recorder import ClipRecorder
    from hoi_perception.pipeline.sources import SourceError, open_source
    from hoi_perception.pipeline.stages import (
        InferenceError,
        ModelNotAvailable,
        ReconstructionStage,
        TaskMismatch,
        load_reconstructor,
    )
    from hoi_perception.pipeline.types import InputError, bodies_and_objects
    from hoi_perception.runtime import sink as sinks

    args.task = _task(args)
    _check_options(args)
    intrinsics = _intrinsics(args)
    model = args.model or _default_model(args.task)
    # only what was asked for: the model card decides the rest
    options = {k: v for k, v in (("backend", args.backend), ("device", args.device)) if v}
    try:
        recon = load_reconstructor(model, args.task, **options)
    except TaskMismatch as exc:
        raise CliError(f"{exc}: run it with --task {exc.model_task}") from None
    except ModelNotAvailable as exc:
        raise CliError(f"no trained {args.task} model available: {exc}") from None
    if args.object:
        known = [str(c) for c in (recon.card.get("classes") or [])]  # the object templates a model knows
        if args.object not in known:
            raise CliError(f"unknown object id {args.object!r}; model {recon.name!r} knows: {', '.join(known) or 'none'}")
        if args.task == "fullbody":  # the object is given, as in the BEHAVE protocol
            recon = load_reconstructor(model, args.task, object_class=args.object, **options)
    try:
        source = open_source(args.source, intrinsics=intrinsics, hfov_deg=args.hfov,
                             max_frames=args.max_frames, stride=args.stride, image_topic=args.image_topic)
    except SourceError as exc:
        raise CliError(str(exc)) from None
    except ValueError as exc:  # e.g. an invalid field of view
        raise CliError(str(exc)) from None
    if args.person_masks and not args.object_masks:
        source.close()
        raise CliError("--person-masks needs --object-masks (person masks come with the object's; without "
                       "either, the front end gives the person and the object segmenter the object)")
    if args.object_masks:
        from hoi_perception.pipeline.mask_source import MaskedSource

        try:
            source = MaskedSource(source, args.person_masks or None, args.object_masks)
        except SourceError as exc:
            source.close()
            raise CliError(str(exc)) from None
    elif args.task == "fullbody":
        print("hoi-perception run: no --object-masks: each frame's object mask comes from the object segmenter "
              "(the person from the front end)", file=sys.stderr)

    out = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        source.close()
        raise CliError(f"--out {out} cannot be created: {exc.strerror or exc}") from None
    try:
        bag = sinks.BagSink(out, args.task, record_images=args.record_images, record_markers=args.markers,
                            mesh_detail=args.mesh_detail)
    except FileExistsError as exc:
        source.close()
        raise CliError(str(exc)) from None
    stage = ReconstructionStage(recon)
    recorder = ClipRecorder(out / "clips") if args.task == "fullbody" else None
    report = {"source": str(args.source), "task": args.task, "model": recon.name, "mesh_detail": args.mesh_detail,
              "frames_read": 0, "results": 0, "skipped_frames": 0, "errors": [], "clips": [], "interrupted": False}
    # said now, in case the run is killed before it can close the bag and write the final report
    sinks.write_report(out / "report.json", {**report, "state": "running",
                                             "if_killed": f"hoi-perception recover {out}"})
    t0 = time.monotonic()
    bar = tqdm(total=len(source) or None, unit="frame", disable=args.no_progress, file=sys.stderr)
    last = None
    # Ctrl-C or SIGTERM (what systemd, docker and launch send) finishes the frame in hand, then
    # stops: a result is never half-recorded (in the bag but not in the report). A second one stops
    # at once; the bag and the report are still closed and written.
    stop = {"requested": None}

    def _on_signal(signum, _frame):
        if stop["requested"] is not None:
            raise KeyboardInterrupt
        stop["requested"] = signum

    previous_handlers = {sig: signal.signal(sig, _on_signal) for sig in EXIT_CODES}
    try:
        for frame in source:
            if stop["requested"] is not None:
                report["interrupted"] = True
                break
            report["frames_read"] += 1
            bar.update(1)
            try:
                result = stage.process(frame)
            except (InputError, InferenceError) as exc:
                report["skipped_frames"] += 1
                if len(report["errors"]) < 50:
                    report["errors"].append(f"frame {frame.index}: {exc}")
                continue
            if result is None:
                continue
            if args.object:
                if not any(o.template_id == args.object for o in bodies_and_objects(result)[1]):
                    continue
            bag.write(result, frame)
            n = report["results"]
            report["results"] += 1
            last = (frame, result)
            _write_files(args, out, frame, result, n, bag.topologies, sinks)
            # clips hold what the bag holds (the recorder node builds them from the published results)
            if recorder is not None and (clip := recorder.add(mesh_detail.select(result, args.mesh_detail))):
                report["clips"].append(clip.file_path)
        if stop["requested"] is not None:
            report["interrupted"] = True
    except KeyboardInterrupt:
        report["interrupted"] = True
    except SourceError as exc:
        report["errors"].append(str(exc))
        report["source_error"] = str(exc)
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
        bar.close()
        source.close()
        bag_path = bag.close()  # closes cleanly on Ctrl-C: everything processed so far stays readable
        if recorder is not None and (clip := recorder.flush()) is not None:
            report["clips"].append(clip.file_path)
        if last is not None and args.mesh_every:
            _write_meshes(args, out, last[1], bag.topologies, sinks)
        if getattr(source, "missing", None):
            report["frames_without_masks"] = source.missing[:50]
        if source.problems:  # passed over while reading (corrupt images, a truncated video)
            report["source_problems"] = source.problems[:50]
        report["frames_read"] += source.unreadable  # images that never became frames
        report["skipped_frames"] += source.unreadable
        report["bag"] = str(bag_path)
        report["state"] = "interrupted" if report["interrupted"] else "finished"
        report["seconds"] = round(time.monotonic() - t0, 3)
        sinks.write_report(out / "report.json", report)
    for problem in report.get("source_problems", []):
        print(f"hoi-perception run: warning: {problem}", file=sys.stderr)
    print(f"{report['results']} result(s) from {report['frames_read']} frame(s) -> {bag_path}", file=sys.stderr)
    if "source_error" in report:
        raise CliError(f"{report['source_error']} (results so far are in {bag_path})")
    if report["interrupted"]:
        return EXIT_CODES.get(stop["requested"], 130)
    if report["results"] == 0 and report["errors"]:
        raise CliError(f"no frame gave a result ({report['skipped_frames']} of {report['frames_read']} rejected); "
                       f"first error: {report['errors'][0]}")
    if report["results"] == 0 and args.task == "handobject" and report["frames_read"] < 2:
        raise CliError(f"the hand-object model needs at least 2 frames of one camera (a video, an image folder, a "
                       f"bag or a camera); the source gave {report['frames_read']}")
    return 0


def _write_files(args, out: Path, frame, result, n: int, topologies, sinks) -> None:
    if args.overlay_every and n % args.overlay_every == 0:
        sinks.write_overlay(out / "overlays" / f"{frame.index:06d}.jpg", frame, result, topologies)
    if args.mesh_every and n % args.mesh_every == 0:
        _write_meshes(args, out, result, topologies, sinks)


def _write_meshes(args, out: Path, result, topologies, sinks) -> None:
    from hoi_perception.pipeline.types import Mesh, bodies_and_objects

    ext = args.mesh_format
    bodies, objects = bodies_and_objects(result)
    for i, b in enumerate(bodies):
        faces = topologies.get(b.model_id)
        if faces is not None and len(b.vertices):
            sinks.export_mesh(Mesh(b.vertices, faces), out / "meshes" / f"{result.frame_index:06d}_body{i}.{ext}",
                              b.vertex_contact)
    for o in objects:
        if o.mesh is not None and len(o.mesh.faces):
            sinks.export_mesh(o.mesh, out / "meshes" / f"{result.frame_index:06d}_object{o.instance_id}.{ext}",
                              o.vertex_contact)
