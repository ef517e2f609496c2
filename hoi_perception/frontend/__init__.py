"""The front end: people and hands found in camera images by a detector trained on real photographs.

`interface.py` says what a detector gives (named 2D keypoints with visibility, world landmarks in
metres, a person mask, boxes, track ids, hand sides); `mediapipe_frontend.py` is the default backend;
`factory.py` builds one by name. Nothing here downloads anything at run time.
"""
from .interface import Detections, FrontEnd, FrontEndUnavailable, HandDetection, PersonDetection

__all__ = ["Detections", "FrontEnd", "FrontEndUnavailable", "HandDetection", "PersonDetection"]
