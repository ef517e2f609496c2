"""Stamp bookkeeping of a live camera stream, framework-free (the ROS nodes use it; tests run it bare).

* `FrameClock`: the camera's frame period from the image stamps (median of recent intervals) and the
  frames lost before they reached us (stamp gaps of more than 1.5 periods).
* `LatestByStamp`: the recent messages of an auxiliary input (masks, depth); the one nearest an image's
  stamp is used only when it is within the allowed skew, so an input that stopped is never reused.
* `health`: the diagnostic level of a reporting period from its counts.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_PERIOD_S = 1.0 / 30.0  # until the stream has shown its own
OK, WARN, ERROR = 0, 1, 2  # diagnostic_msgs/DiagnosticStatus levels


class FrameClock:
    """Frame period and upstream losses from image stamps (ns)."""

    def __init__(self, history: int = 30) -> None:
        self.intervals: deque[int] = deque(maxlen=history)
        self.last_ns: int | None = None
        self.lost = 0  # frames missing between received stamps, since the start

    @property
    def period_s(self) -> float:
        if len(self.intervals) < 3:
            return DEFAULT_PERIOD_S
        return float(np.median(self.intervals)) / 1e9

    def add(self, stamp_ns: int) -> int:
        """Record an image stamp; returns how many frames were lost just before it."""
        lost = 0
        if self.last_ns is not None:
            dt = stamp_ns - self.last_ns
            if dt > 0:
                period_ns = self.period_s * 1e9
                if len(self.intervals) >= 3 and dt > 1.5 * period_ns:
                    lost = int(round(dt / period_ns)) - 1
                else:
                    self.intervals.append(dt)  # gaps stay out of the period estimate
        if self.last_ns is None or stamp_ns > self.last_ns:
            self.last_ns = stamp_ns
        self.lost += lost
        return lost


class LatestByStamp:
    """Recent messages of one auxiliary input, looked up by the image stamp they belong to."""

    def __init__(self, name: str, keep: int = 8) -> None:
        self.name = name
        self.items: deque[tuple[int, Any]] = deque(maxlen=keep)
        self.in_step: bool | None = None  # last verdict, so a change of state is said once

    def add(self, stamp_ns: int, msg: Any) -> None:
        self.items.append((int(stamp_ns), msg))

    def find(self, stamp_ns: int, max_skew_s: float) -> Any | None:
        """The message within `max_skew_s` of the image stamp, or None (nothing is judged or said)."""
        best = min(self.items, key=lambda it: abs(it[0] - stamp_ns), default=None)
        return best[1] if best is not None and abs(best[0] - stamp_ns) / 1e9 <= max_skew_s else None

    def nearest(self, stamp_ns: int, max_skew_s: float) -> tuple[Any | None, str | None]:
        """(message, note): the message within `max_skew_s` of the image or None; the note says what
        changed since the last verdict (None when nothing did), so a state is logged once."""
        best = min(self.items, key=lambda it: abs(it[0] - stamp_ns), default=None)
        skew = None if best is None else abs(best[0] - stamp_ns) / 1e9
        ok = skew is not None and skew <= max_skew_s
        note = None
        if ok != self.in_step:
            if ok:
                note = f"{self.name} in step with the images again" if self.in_step is not None else None
            elif skew is None:
                note = f"no {self.name} received yet: images go on without"
            else:
                note = (f"{self.name} not used: the nearest is {skew:.3f} s from the image stamp (allowed "
                        f"{max_skew_s:.3f} s)")
            self.in_step = ok
        return (best[1] if ok else None), note


@dataclass
class PeriodCounts:
    received: int  # images that reached the node
    lost: int  # images missing upstream (stamp gaps)
    dropped: int  # replaced by a newer image before inference took them
    rejected: int  # inference refused them (bad input, unusable output)


def health(c: PeriodCounts, warn_share: float) -> tuple[int, float]:
    """(level, share of frames not processed) of one period: ERROR when frames came and every one was
    lost, dropped or rejected; WARN above `warn_share`; OK otherwise (and when no frame came)."""
    total = c.received + c.lost
    if total == 0:
        return OK, 0.0
    bad = c.lost + c.dropped + c.rejected
    share = min(1.0, bad / total)
    if bad >= total:
        return ERROR, share
    return (WARN if share > warn_share else OK), share
