"""The backend interface (the factory that builds one is `factory.py`)."""
from __future__ import annotations

import abc
from typing import Mapping

import numpy as np

class BackendError(RuntimeError):
    """A backend cannot be created or cannot run this model (missing package, bad file, wrong inputs)."""


class InferenceBackend(abc.ABC):
    """Runs one network: `run({name: array}) -> {name: array}` (float32 unless stated)."""

    name: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    device: str = "cpu"  # where the network runs: "cpu" or "cuda"

    @abc.abstractmethod
    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def run(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = [n for n in self.input_names if n not in inputs]
        if missing:
            raise BackendError(f"{self.name}: missing inputs {missing}; expected {list(self.input_names)}")
        arrays = {}
        for n in self.input_names:
            a = np.asarray(inputs[n])
            if a.dtype == np.float64:
                a = a.astype(np.float32)
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                raise BackendError(f"{self.name}: input {n!r} contains NaN or infinite values")
            arrays[n] = np.ascontiguousarray(a)
        return self._run(arrays)
