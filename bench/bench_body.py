"""Entry point of `hoi_perception.benchmarks.body` (same as `hoi-perception bench body`)."""
from hoi_perception.benchmarks.body import main

if __name__ == "__main__":
    raise SystemExit(main())
