"""Entry point of `hoi_perception.benchmarks.contacts` (same as `hoi-perception bench contacts`)."""
from hoi_perception.benchmarks.contacts import main

if __name__ == "__main__":
    raise SystemExit(main())
