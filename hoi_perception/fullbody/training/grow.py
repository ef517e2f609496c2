"""Start a wider backbone from a trained narrower one without changing what the network computes.

Release 6 underfitted (its errors on training scenes equalled those on held-out ones) and its
backbone held ~9 % of the weights, so widening the backbone was the capacity lever; training a wider
one from scratch costs days on two CPU cores. Instead each backbone tensor is embedded in the
wider one: the old channels keep their weights, the old channels' weights on the new input
channels are zero (so they ignore them), and the new channels start from the usual random
initialisation. The grown network's outputs equal the old one's exactly at the start (in eval and
in train mode), and fine-tuning then puts the new channels to use.
"""
from __future__ import annotations

import torch
from torch import nn

GROWABLE_PREFIX = "backbone."


def _embed(old: torch.Tensor, new: torch.Tensor, key: str) -> torch.Tensor:
    """``new`` (the fresh, wider tensor) with ``old`` copied into its leading slice."""
    out = new.detach().clone()
    region = tuple(slice(0, n) for n in old.shape)
    out[region] = old
    if key.endswith(".weight") and old.dim() == 4 and old.shape[1] < new.shape[1]:
        # a conv: the old output channels must not read the new input channels
        out[: old.shape[0], old.shape[1]:] = 0.0
    return out


def load_grown(model: nn.Module, state: dict) -> tuple[int, int]:
    """Load ``state`` into ``model``: tensors of equal shape are copied, smaller backbone tensors are
    embedded (see module doc), anything else is left as initialised. Returns (copied, embedded)."""
    own = model.state_dict()
    keep, copied, embedded = {}, 0, 0
    for key, value in state.items():
        if key not in own:
            continue
        target = own[key]
        if target.shape == value.shape:
            keep[key] = value
            copied += 1
        elif (key.startswith(GROWABLE_PREFIX) and value.dim() == target.dim()
              and all(a <= b for a, b in zip(value.shape, target.shape))):
            keep[key] = _embed(value.to(target.dtype), target, key)
            embedded += 1
    model.load_state_dict(keep, strict=False)
    return copied, embedded
