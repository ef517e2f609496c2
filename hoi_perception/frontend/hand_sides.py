"""A hand keeps its side along a stream.

Per frame, a hand's side comes from the nearer wrist of a detected person or from the hand model's
label, and both flicker: on the phone videos the side of a hand followed from one frame to the next
changed in 53 of 577 frame pairs, for one frame or a few (a partly seen arm's wrists swap, the label
wavers on a fist). A hand cannot change side, so each hand followed by box overlap accumulates
votes for its sides - a wrist's vote counts double a label's, each weighted by the detection's
score, older votes fading by ``FADE`` per frame - and takes the side with more votes. Two hands in
one frame that would take the same side keep their own frame's sides.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .interface import HandDetection, match_boxes

FADE = 0.9  # per frame: a side seen consistently for a few frames outweighs a long-past one
MIN_OVERLAP = 0.3  # box IoU with last frame's hand for the same hand
SOURCE_WEIGHT = {"body": 2.0, "classifier": 1.0}


@dataclass
class _Track:
    box: np.ndarray
    votes: dict[str, float] = field(default_factory=lambda: {"left": 0.0, "right": 0.0})


class HandSides:
    """The side vote of one stream; `reset` on a new stream."""

    def __init__(self) -> None:
        self._tracks: list[_Track] = []

    def reset(self) -> None:
        self._tracks = []

    def __call__(self, hands: list[HandDetection]) -> list[HandDetection]:
        tracks = []
        matches = match_boxes([t.box for t in self._tracks], [h.box for h in hands], MIN_OVERLAP)
        for hand, match in zip(hands, matches):
            if match is not None:
                track = _Track(hand.box, {s: v * FADE for s, v in self._tracks[match].votes.items()})
            else:
                track = _Track(hand.box)
            track.votes[hand.side] += SOURCE_WEIGHT.get(hand.side_from, 1.0) * max(hand.score, 1e-3)
            tracks.append(track)
        self._tracks = tracks
        voted = [max(t.votes, key=t.votes.get) for t in tracks]
        if len(set(voted)) < len(voted):  # two hands, one side: this frame's own sides
            return list(hands)
        return [h if s == h.side else replace(h, side=s, side_from="track") for h, s in zip(hands, voted)]
