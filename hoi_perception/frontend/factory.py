"""Front ends by name (the factory apart from the detectors it builds)."""
from __future__ import annotations

from .interface import FrontEnd

FRONT_ENDS = ("mediapipe",)


def make_frontend(name: str = "mediapipe", mode: str = "video", **options) -> FrontEnd:
    """A front end; raises FrontEndUnavailable (with the install step) when it cannot run here."""
    if name == "mediapipe":
        from .mediapipe_frontend import MediaPipeFrontEnd

        return MediaPipeFrontEnd(mode=mode, **options)
    raise ValueError(f"unknown front end {name!r} (known: {', '.join(FRONT_ENDS)})")
