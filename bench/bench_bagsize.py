"""Entry point of `hoi_perception.benchmarks.bagsize` (same as `hoi-perception bench bagsize`)."""
from hoi_perception.benchmarks.bagsize import main

if __name__ == "__main__":
    raise SystemExit(main())
