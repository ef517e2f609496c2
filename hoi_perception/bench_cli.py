"""`hoi-perception bench NAME [args]`: run the benchmark `hoi_perception.benchmarks.NAME`.

Benchmarks print human-readable figures; with --json they also print one JSON line, so the
figures quoted in docs/benchmarks.md can be reproduced and compared by machine.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil

from hoi_perception.cli import CliError


def available() -> list[str]:
    from hoi_perception import benchmarks

    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="benchmark name (hoi_perception/benchmarks/NAME.py)")
    parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments for the benchmark")


def main(args: argparse.Namespace) -> int:
    if args.name not in available():
        raise CliError(f"unknown benchmark {args.name!r}; available: {', '.join(available()) or 'none'}")
    module = importlib.import_module(f"hoi_perception.benchmarks.{args.name}")
    try:
        code = module.main(list(args.bench_args))
    except SystemExit as exc:  # argparse's exit (e.g. --help) or the benchmark's own
        if isinstance(exc.code, str):
            raise CliError(exc.code) from None
        return int(exc.code or 0)
    return int(code or 0)
