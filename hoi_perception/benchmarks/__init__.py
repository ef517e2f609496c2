"""Benchmarks: each module prints figures, and with --json one JSON line, via `main(argv)`.

Run as `hoi-perception bench NAME ...`, `python -m hoi_perception.benchmarks.NAME ...` or
`python bench/bench_NAME.py ...`. Evaluation code: live inference never imports it.
"""
