"""Hand-held object reconstruction from 2-6 frames (ForeHOI at small scale); see docs/handobject.md."""
