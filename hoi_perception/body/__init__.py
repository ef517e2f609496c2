"""One body/hand-model interface: ``load_body_model`` returns a :class:`BodyModel`.

Backends: ``"anny"`` (default, always available) and ``"smplx"`` (optional extra, needs the
``smplx`` package and user-supplied SMPL-X/MANO model files). Rotation conversions live in
`hoi_perception.geometry`.
"""
from __future__ import annotations

import functools

import torch

from hoi_perception.body.interface import (
    KINDS,
    OPTICAL_FROM_REP103,
    BodyModel,
    BodyOutput,
    BodyParams,
    transform_output,
)
from hoi_perception.body.joints import (
    BODY_JOINTS,
    BODY_PARENTS,
    BODY_POSE_JOINTS,
    HAND_JOINTS,
    HAND_PARENTS,
    HAND_POSE_JOINTS,
)

BACKENDS = ("anny", "smplx")


@functools.lru_cache(maxsize=None)
def _cached(name: str, kind: str, device: str, dtype: torch.dtype, model_dir: str | None) -> BodyModel:
    if name == "anny":
        from hoi_perception.body.anny_model import AnnyBodyModel

        return AnnyBodyModel(kind=kind, device=device, dtype=dtype)
    from hoi_perception.body.smplx_model import SmplxBodyModel

    return SmplxBodyModel(kind=kind, device=device, dtype=dtype, model_dir=model_dir)


def load_body_model(
    name: str = "anny",
    kind: str = "body",
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    model_dir: str | None = None,
) -> BodyModel:
    """The body ("body") or hand ("hand_left", "hand_right") model of a backend.

    Instances are cached per (name, kind, device, dtype): building anny takes seconds (minutes
    the very first time on a machine, which fills the persistent cache). The returned module is
    shared; do not move it with ``.to()``, ask for the device you need instead.
    ``model_dir`` is the SMPL-X/MANO model folder for ``name="smplx"``.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown body model {name!r}; available: {BACKENDS}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return _cached(name, kind, str(torch.device(device)), dtype, None if model_dir is None else str(model_dir))


__all__ = [
    "load_body_model",
    "BACKENDS",
    "KINDS",
    "BodyModel",
    "BodyOutput",
    "BodyParams",
    "transform_output",
    "OPTICAL_FROM_REP103",
    "BODY_JOINTS",
    "BODY_PARENTS",
    "BODY_POSE_JOINTS",
    "HAND_JOINTS",
    "HAND_PARENTS",
    "HAND_POSE_JOINTS",
]
