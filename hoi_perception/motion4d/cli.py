"""`hoi-perception reconstruct`: a video -> a 4D clip folder (see `reconstruct.py` for its files);
`--resolve DIR` re-solves a folder with its annotations (from `hoi-perception annotate DIR`)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", nargs="?", help="input video file")
    parser.add_argument("--out", help="output clip folder (created)")
    parser.add_argument("--resolve", metavar="DIR", help="re-solve an existing clip folder with its annotations")
    parser.add_argument("--object", dest="object_template", help="object library id of the handled object")
    parser.add_argument("--stride", type=int, default=1, help="use every k-th frame (default 1)")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many sampled frames")
    parser.add_argument("--fov", type=float, default=60.0, help="horizontal field of view in degrees (default 60)")
    parser.add_argument("--fps", type=float, default=None,
                        help="the video's true frame rate where the file states a wrong one")
    parser.add_argument("--no-videos", action="store_true", help="skip overlay.mp4 and side.mp4")


def main(args: argparse.Namespace) -> int:
    from hoi_perception.cli import CliError

    from .annotations import AnnotationError
    from .evidence import VideoError
    from .reconstruct import reconstruct_video, resolve

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.resolve:
            if args.video or args.out:
                raise CliError("--resolve DIR takes no video or --out")
            summary = resolve(Path(args.resolve), videos=not args.no_videos)
            out = Path(args.resolve)
        else:
            if not args.video or not args.out:
                raise CliError("give a VIDEO and --out DIR (or --resolve DIR)")
            summary = reconstruct_video(args.video, args.out, object_template=args.object_template, stride=args.stride,
                                        max_frames=args.max_frames, fov_deg=args.fov, videos=not args.no_videos,
                                        fps=args.fps)
            out = Path(args.out)
    except (VideoError, AnnotationError, FileNotFoundError, KeyError, ValueError) as exc:
        raise CliError(str(exc).strip("'\"")) from exc
    print(f"{out}: {summary['solved_frames']} of {summary['frames']} frames solved in "
          f"{summary['seconds']['solve']:.1f} s; ground from {summary['ground']}; files: {', '.join(summary['files'])}")
    for w in summary["warnings"]:
        print(f"warning: {w}")
    return 0
