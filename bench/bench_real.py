"""Entry point of `hoi_perception.benchmarks.real` (same as `hoi-perception bench real`)."""
from hoi_perception.benchmarks.real import main

if __name__ == "__main__":
    raise SystemExit(main())
