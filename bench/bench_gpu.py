"""Entry point of `hoi_perception.benchmarks.gpu` (same as `hoi-perception bench gpu`)."""
from hoi_perception.benchmarks.gpu import main

if __name__ == "__main__":
    raise SystemExit(main())
