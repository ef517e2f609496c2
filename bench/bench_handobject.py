"""Entry point of `hoi_perception.benchmarks.handobject` (same as `hoi-perception bench handobject`)."""
from hoi_perception.benchmarks.handobject import main

if __name__ == "__main__":
    raise SystemExit(main())
