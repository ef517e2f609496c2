"""Learning-rate schedule shared by the training CLIs (a function of the step, so resuming is exact)."""
from __future__ import annotations

import math


def cosine_lr(step: int, steps: int, base: float, warmup: int = 100, floor: float = 0.02) -> float:
    """Linear warm-up over `warmup` steps, then cosine from `base` to 0 at `steps`, plus `floor * base`."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return base * 0.5 * (1 + math.cos(math.pi * progress)) + base * floor
