"""No result from nothing: frames that cannot show a person, a hand or an object are refused before
any network sees them (a network asked anyway answers with confident shapes: on a 1x1 grey image the
hand-object model once published a hand and a 4,132-vertex object at confidence 0.7).

What is checked here needs no detector: an image too small to show anything the models know, and a
featureless one. People and hands are looked for by the front end's detectors, where one is used.
"""
from __future__ import annotations

import cv2
import numpy as np

from hoi_perception.pipeline.types import Frame

MIN_SIDE_PX = 64  # the networks crop 96-128 px views: a smaller image holds no recognisable person or hand
MIN_GREY_SPREAD = 4.0  # grey-level standard deviation (of 255) below which an image is blank


def missing_evidence(frame: Frame) -> str | None:
    """Why `frame` cannot show anything to reconstruct, or None when it may."""
    h, w = frame.image.shape[:2]
    if min(h, w) < MIN_SIDE_PX:
        return f"the image is {w}x{h}, smaller than {MIN_SIDE_PX} px on a side: too small to show a person or a hand"
    small = cv2.resize(frame.image, (64, max(1, round(64 * h / w))), interpolation=cv2.INTER_AREA)
    spread = float(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32).std())
    if spread < MIN_GREY_SPREAD:
        return f"the image is blank (grey-level spread {spread:.1f} of 255): nothing to reconstruct"
    return None
