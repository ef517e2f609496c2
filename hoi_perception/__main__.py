"""`python -m hoi_perception ...` is `hoi-perception ...`."""
import sys

from hoi_perception.cli import main

sys.exit(main())
