"""The human-object spatial prior learned from 2D layouts (paper 002), as a fitting term.

`layout.py` turns a body and an object into what a camera would record from a virtual viewport (the
2D positions of the body's joints and the object's keypoints, and where the camera stands); `flow.py`
is the conditional normalising flow over the object's part of that layout; `prior.py` loads the
shipped model and scores an arrangement; `hoi_perception.fitting.prior_terms` makes it fitting-core
terms. Training lives in `training/` and is never imported at run time.
"""
