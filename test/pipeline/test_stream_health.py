"""Stamp bookkeeping of live streams: frame period, upstream losses, masks/depth matched by stamp,
the diagnostic level of a period."""
from __future__ import annotations

import pytest

from hoi_perception.pipeline.stream_health import (DEFAULT_PERIOD_S, ERROR, OK, WARN, FrameClock, LatestByStamp,
                                                   PeriodCounts, health)

MS = 1_000_000


def test_frame_clock_measures_the_period_and_counts_gaps():
    clock = FrameClock()
    assert clock.period_s == DEFAULT_PERIOD_S
    stamps = [i * 33 * MS for i in range(10)]
    assert sum(clock.add(s) for s in stamps) == 0
    assert clock.period_s == pytest.approx(0.033)
    assert clock.add(stamps[-1] + 4 * 33 * MS) == 3  # three frames never arrived
    assert clock.period_s == pytest.approx(0.033)  # the gap stays out of the estimate
    assert clock.add(stamps[-1] + 5 * 33 * MS) == 0 and clock.lost == 3
    assert clock.add(stamps[3]) == 0  # an old stamp (reordered delivery) is no gap


def test_aux_input_is_used_only_in_step_and_changes_are_said_once():
    masks = LatestByStamp("masks")
    msg, note = masks.nearest(100 * MS, 0.033)
    assert msg is None and "no masks received yet" in note
    assert masks.nearest(133 * MS, 0.033) == (None, None)  # same state: said once
    masks.add(200 * MS, "m200")
    assert masks.find(210 * MS, 0.033) == "m200" and masks.find(300 * MS, 0.033) is None
    msg, note = masks.nearest(210 * MS, 0.033)
    assert msg == "m200" and "in step with the images again" in note
    assert masks.nearest(233 * MS, 0.033) == ("m200", None)
    msg, note = masks.nearest(900 * MS, 0.033)  # masks stopped: the old one is not reused
    assert msg is None and "not used" in note and "0.700 s" in note
    masks.add(1000 * MS, "m1000")
    masks.add(1033 * MS, "m1033")
    assert masks.nearest(1030 * MS, 0.033)[0] == "m1033"  # the nearest, not the latest received


@pytest.mark.parametrize("counts,level", [
    (PeriodCounts(0, 0, 0, 0), OK),
    (PeriodCounts(10, 0, 2, 1), OK),
    (PeriodCounts(10, 0, 5, 1), WARN),
    (PeriodCounts(4, 6, 0, 0), WARN),  # most frames never reached the node
    (PeriodCounts(10, 0, 3, 7), ERROR),  # every frame dropped or rejected
    (PeriodCounts(0, 5, 0, 0), ERROR),
])
def test_health_levels(counts, level):
    assert health(counts, 0.5)[0] == level
