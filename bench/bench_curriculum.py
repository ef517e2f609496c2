"""Entry point of `hoi_perception.benchmarks.curriculum` (same as `hoi-perception bench curriculum`)."""
from hoi_perception.benchmarks.curriculum import main

if __name__ == "__main__":
    raise SystemExit(main())
