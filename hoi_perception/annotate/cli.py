"""`hoi-perception annotate DIR [--port N] [--no-browser]`: serve the annotation page of a clip folder."""
from __future__ import annotations

import argparse
import webbrowser
from pathlib import Path

from hoi_perception.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clip_dir", metavar="DIR", type=Path, help="a clip folder written by `hoi-perception reconstruct`")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL, do not open a browser")
    parser.add_argument("--verbose", action="store_true", help="log every request")


def main(args: argparse.Namespace) -> int:
    # Imported here: the server pulls in the scene (body model, solver), which `--help` does not need.
    from hoi_perception.annotate.server import AnnotateServer, three_missing
    from hoi_perception.motion4d.scene import SceneError

    if not args.clip_dir.is_dir():
        raise CliError(f"{args.clip_dir} is not a folder (make one with `hoi-perception reconstruct VIDEO --out DIR`)")
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port {args.port} is not a TCP port (0..65535; 0 picks a free one)")
    if why := three_missing():
        raise CliError(why)
    try:
        server = AnnotateServer(args.clip_dir, port=args.port, verbose=args.verbose)
    except SceneError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:  # the port is taken, or not ours to bind
        raise CliError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    print(f"annotating {args.clip_dir}: open {server.url}  (Ctrl-C stops)", flush=True)
    if not args.no_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("annotate: stopped", flush=True)
    finally:
        server.server_close()
    return 0
