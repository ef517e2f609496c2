"""The shared learning-rate schedule."""
import pytest

from hoi_perception.schedule import cosine_lr


def test_warmup_peak_decay_and_floor():
    base = 1e-3
    warm = [cosine_lr(s, 1000, base, warmup=100) for s in range(100)]
    assert warm[0] == pytest.approx(base / 100) and warm[-1] == pytest.approx(base)
    assert all(a < b for a, b in zip(warm, warm[1:]))
    decay = [cosine_lr(s, 1000, base, warmup=100) for s in range(100, 1001)]
    assert decay[0] == pytest.approx(1.02 * base)
    assert all(a >= b for a, b in zip(decay, decay[1:]))
    assert decay[-1] == pytest.approx(0.02 * base)
    assert cosine_lr(5000, 1000, base, warmup=100) == pytest.approx(0.02 * base)  # past the end: the floor
    assert cosine_lr(550, 1000, base, warmup=100, floor=0.0) == pytest.approx(0.5 * base)
