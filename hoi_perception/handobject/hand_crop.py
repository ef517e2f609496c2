"""Where the hand-object network looks: a square window that follows the detected hands.

The network learned from renders where the hand and its object fill 55-85 % of the image; there the
hand's 21 joints span a median 35 % of the image side (10-90 %: 24-53 %, measured on the held-out
hand clips). So on a camera image the window is centred on the detected hands and sized so that a
hand spans that share again; with two hands it also holds both. It moves smoothly from frame to frame
(a jumping window would read as object motion), and where no hand is seen it stays where it was.
The window always lies inside the image; where it would be larger than the image's short side it
is the centre square, as without a hand.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HAND_SHARE = 0.35  # median span of the hand's joints over the image side in the training renders
BOTH_HANDS_MARGIN = 1.3  # the window holds both hands' joints with this margin
MIN_SIDE_PX = 48  # below this the crop would be mostly upsampling blur
SMOOTHING = 0.5  # weight of the new frame's window (centre and log side)


@dataclass(frozen=True)
class Window:
    """A square in image pixels: top-left corner (x0, y0) and side, all integers."""

    x0: int
    y0: int
    side: int


def centre_window(shape: tuple[int, int]) -> Window:
    h, w = shape[:2]
    s = min(h, w)
    return Window((w - s) // 2, (h - s) // 2, s)


def hands_window(keypoints: list[np.ndarray], shape: tuple[int, int]) -> tuple[np.ndarray, float] | None:
    """(centre (x, y), side) of the window the hands ask for, or None without a finite hand."""
    hands = [np.asarray(k, np.float64) for k in keypoints]
    hands = [k for k in hands if len(k) and np.isfinite(k).all()]
    if not hands:
        return None
    spans = [max(np.ptp(k[:, 0]), np.ptp(k[:, 1])) for k in hands]
    allk = np.concatenate(hands)
    lo, hi = allk.min(0), allk.max(0)
    side = max(max(spans) / HAND_SHARE, BOTH_HANDS_MARGIN * float((hi - lo).max()), MIN_SIDE_PX)
    return (lo + hi) / 2, side


def place(centre: np.ndarray, side: float, shape: tuple[int, int]) -> Window:
    """The square of ``side`` about ``centre``, shifted to lie inside the image."""
    h, w = shape[:2]
    s = round(float(min(side, h, w)))
    x0 = round(float(np.clip(centre[0] - s / 2, 0, w - s)))
    y0 = round(float(np.clip(centre[1] - s / 2, 0, h - s)))
    return Window(x0, y0, s)


class HandCrop:
    """The window of one stream: follows the hands, keeps still without them. Not thread-safe."""

    def __init__(self, smoothing: float = SMOOTHING) -> None:
        self.smoothing = float(smoothing)
        self._state: tuple[np.ndarray, float] | None = None  # (centre, log side)
        self._shape: tuple[int, int] | None = None

    def reset(self) -> None:
        self._state = self._shape = None

    @property
    def following(self) -> bool:
        return self._state is not None

    def update(self, keypoints: list[np.ndarray], shape: tuple[int, int]) -> Window:
        """This frame's window from the hands found in it (an empty list: none found)."""
        shape = tuple(shape[:2])
        if shape != self._shape:
            self._state, self._shape = None, shape
        want = hands_window(keypoints, shape)
        if want is not None:
            centre, log_side = want[0], float(np.log(want[1]))
            if self._state is not None:
                a = self.smoothing
                centre = a * centre + (1 - a) * self._state[0]
                log_side = a * log_side + (1 - a) * self._state[1]
            self._state = (centre, log_side)
        return self.current(shape)

    def current(self, shape: tuple[int, int]) -> Window:
        """The window as it stands (the centre square before any hand was seen)."""
        if self._state is None or tuple(shape[:2]) != self._shape:
            return centre_window(shape)
        return place(self._state[0], float(np.exp(self._state[1])), shape)
