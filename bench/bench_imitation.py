"""Entry point of `hoi_perception.benchmarks.imitation` (same as `hoi-perception bench imitation`)."""
from hoi_perception.benchmarks.imitation import main

if __name__ == "__main__":
    raise SystemExit(main())
