"""The eager PyTorch module itself: the reference the exported backends are compared against."""
from __future__ import annotations

import numpy as np

from .base import BackendError, InferenceBackend


class TorchBackend(InferenceBackend):
    name = "torch"

    def __init__(self, module, input_names: tuple[str, ...], output_names: tuple[str, ...], threads: int = 1,
                 device: str = "cpu"):
        import torch

        self.torch = torch
        self.module = module.eval().to(device)
        self.device = device
        self.input_names, self.output_names = input_names, output_names
        if device == "cpu":
            torch.set_num_threads(int(threads))

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        with torch.inference_mode():
            out = self.module(**{k: torch.from_numpy(v).to(self.device) for k, v in inputs.items()})
        if not isinstance(out, dict):
            raise BackendError("the torch module must return a dict of named outputs")
        return {k: out[k].detach().float().cpu().numpy() if out[k].is_floating_point() else out[k].cpu().numpy()
                for k in self.output_names}
