"""Entry point of `hoi_perception.benchmarks.spatial_prior` (same as `hoi-perception bench spatial_prior`)."""
from hoi_perception.benchmarks.spatial_prior import main

if __name__ == "__main__":
    raise SystemExit(main())
