"""A hand keeps its side along a stream: the per-frame side's flicker is voted away."""
from __future__ import annotations

import numpy as np

from hoi_perception.frontend.hand_sides import HandSides
from hoi_perception.frontend.interface import HandDetection


def _hand(side: str, x: float, source: str = "classifier", score: float = 0.9) -> HandDetection:
    kp = np.stack([np.linspace(x, x + 80, 21), np.linspace(100, 180, 21)], 1)
    return HandDetection(kp, None, side, score, np.array([x, 100.0, x + 80, 180.0]), side_from=source)


def test_a_flicker_of_one_frame_or_two_is_voted_away():
    vote = HandSides()
    said = ["left"] * 5 + ["right"] * 2 + ["left"] * 3
    out = [vote([_hand(s, 100 + i)])[0] for i, s in enumerate(said)]
    assert [h.side for h in out] == ["left"] * 10
    assert [h.side_from for h in out[5:7]] == ["track", "track"]  # overruled frames say so
    assert out[7].side_from == "classifier"


def test_a_person_s_wrist_outweighs_the_label_and_lasting_evidence_wins():
    vote = HandSides()
    assert vote([_hand("right", 100)])[0].side == "right"
    assert vote([_hand("left", 101, "body")])[0].side == "left"  # a wrist's vote counts double
    vote.reset()
    out = [vote([_hand(s, 100)])[0].side for s in ["left"] * 3 + ["right"] * 8]
    assert out[:3] == ["left"] * 3 and out[-1] == "right"  # old votes fade


def test_two_hands_keep_their_own_sides_and_a_new_hand_starts_afresh():
    vote = HandSides()
    for i in range(4):
        a, b = vote([_hand("left", 100 + i), _hand("right", 400 + i)])
        assert (a.side, b.side) == ("left", "right")
    # both say "left" for a frame: the second keeps its side by the vote
    a, b = vote([_hand("left", 104), _hand("left", 404)])
    assert (a.side, b.side) == ("left", "right") and b.side_from == "track"
    # the vote would give two hands one side (a new hand next to a known left one): the frame's sides stand
    vote.reset()
    for i in range(3):
        vote([_hand("left", 100 + i)])
    a, b = vote([_hand("right", 103), _hand("left", 700)])
    assert (a.side, b.side) == ("right", "left") and a.side_from == "classifier"
    # a hand far from every hand of the last frame is a new hand: its own side
    assert vote([_hand("right", 900)])[0].side == "right"
