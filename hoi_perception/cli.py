"""`hoi-perception` command line: one sub-command per stage a user runs.

Each sub-command lives in its own module exposing `add_arguments(parser)` and `main(args) -> int`;
modules are imported only when their command is used, so `hoi-perception --help` stays fast and a
missing optional dependency only affects the command that needs it.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module, one-line help)
COMMANDS = {
    "prepare": ("hoi_perception.prepare", "build the persistent caches (anny models, object fields) once"),
    "synth": ("hoi_perception.synth.cli", "generate a synthetic HOI dataset (sharded, resumable)"),
    "synth-preview": ("hoi_perception.synth.preview", "write a contact sheet PNG of dataset samples"),
    "run": ("hoi_perception.runtime.cli", "run the pipeline on a video, image folder, rosbag2 or camera"),
    "recover": ("hoi_perception.runtime.recover", "make the bag of a killed run readable"),
    "reconstruct": ("hoi_perception.motion4d.cli", "a video -> a 4D human-object clip (temporal solve, world frame)"),
    "bench": ("hoi_perception.bench_cli", "print benchmark figures (add --json for one JSON line)"),
    "batch": ("hoi_perception.batch.cli", "many videos or dataset shards as Ray tasks (local or a cluster; resumable)"),
    "annotate": ("hoi_perception.annotate.cli", "a local web page to add contact pairs to a 4D clip and re-solve"),
}


class CliError(Exception):
    """An error the user can fix; printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hoi-perception", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(_module=module_name)
        # Arguments are added lazily in main(); here only the name is registered.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        build_parser().parse_args(argv)  # prints help or the "invalid choice" error
        return 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"hoi-perception {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.main(args) or 0)
    except CliError as exc:
        print(f"hoi-perception {name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hoi-perception {name}: interrupted", file=sys.stderr)
        return 130

