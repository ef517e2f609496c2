"""Entry point of `hoi_perception.benchmarks.person_fit` (same as `hoi-perception bench person_fit`)."""
from hoi_perception.benchmarks.person_fit import main

if __name__ == "__main__":
    raise SystemExit(main())
