"""`hoi-perception bench NAME [args]`: run the benchmark script bench/bench_NAME.py.

Benchmarks print human-readable figures; with --json they also print one JSON line, so the
figures quoted in the README can be reproduced and compared by machine.
"""
from __future__ import annotations

import argparse
import runpy
import sys

from hoi_perception.cli import CliError
from hoi_perception.paths import REPO_ROOT

BENCH_DIR = REPO_ROOT / "bench"


def available() -> list[str]:
    return sorted(p.stem[len("bench_"):] for p in BENCH_DIR.glob("bench_*.py"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="benchmark name (bench/bench_NAME.py)")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments for the benchmark")


def main(args: argparse.Namespace) -> int:
    script = BENCH_DIR / f"bench_{args.name}.py"
    if not script.is_file():
        raise CliError(f"unknown benchmark {args.name!r}; available: {', '.join(available()) or 'none'}")
    sys.argv = [str(script), *args.bench_args]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:  # the script's own exit code
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0
