"""Entry point of `hoi_perception.benchmarks.render` (same as `hoi-perception bench render`)."""
from hoi_perception.benchmarks.render import main

if __name__ == "__main__":
    raise SystemExit(main())
