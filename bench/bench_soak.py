"""Entry point of `hoi_perception.benchmarks.soak` (same as `hoi-perception bench soak`)."""
from hoi_perception.benchmarks.soak import main

if __name__ == "__main__":
    raise SystemExit(main())
