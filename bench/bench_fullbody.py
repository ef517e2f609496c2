"""Entry point of `hoi_perception.benchmarks.fullbody` (same as `hoi-perception bench fullbody`)."""
from hoi_perception.benchmarks.fullbody import main

if __name__ == "__main__":
    raise SystemExit(main())
