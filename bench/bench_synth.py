"""Entry point of `hoi_perception.benchmarks.synth` (same as `hoi-perception bench synth`)."""
from hoi_perception.benchmarks.synth import main

if __name__ == "__main__":
    raise SystemExit(main())
