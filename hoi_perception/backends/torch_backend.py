"""The eager PyTorch module itself: the reference the exported backends are compared against, and
the GPU backend where TensorRT is not installed.

On a GPU the networks here are launch-bound at batch 1 (hundreds of small kernels), so by default
each input shape's forward is captured once as a CUDA graph and replayed: the inputs are copied
into the graph's static tensors, one launch runs every kernel. A forward that cannot be captured
falls back to eager (logged once).
"""
from __future__ import annotations

import logging

import numpy as np

from .base import BackendError, InferenceBackend

log = logging.getLogger("hoi_perception.backends")
MAX_GRAPHS = 8  # input shapes captured per backend; further shapes run eagerly


class TorchBackend(InferenceBackend):
    name = "torch"

    def __init__(self, module, input_names: tuple[str, ...], output_names: tuple[str, ...], threads: int = 1,
                 device: str = "cpu", cuda_graph: bool = True):
        import torch

        if device == "cuda" and not torch.cuda.is_available():
            raise BackendError("device 'cuda' asked for, but torch sees no CUDA GPU "
                               f"(torch {torch.__version__}; a CPU-only build?); use device 'cpu'")
        self.torch = torch
        self.module = module.eval().to(device)
        self.device = device
        self.input_names, self.output_names = input_names, output_names
        self.cuda_graph = bool(cuda_graph) and device == "cuda"
        self._graphs: dict = {}  # input signature -> (graph, static inputs, static outputs), or None: not capturable
        if device == "cpu":
            torch.set_num_threads(int(threads))

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.cuda_graph:
            key = tuple((k, v.shape, v.dtype.str) for k, v in sorted(inputs.items()))
            if key not in self._graphs and len(self._graphs) < MAX_GRAPHS:
                self._graphs[key] = self._capture(inputs)
            if self._graphs.get(key) is not None:
                return self._replay(self._graphs[key], inputs)
        torch = self.torch
        with torch.inference_mode():
            out = self.module(**{k: torch.from_numpy(v).to(self.device) for k, v in inputs.items()})
        return self._to_numpy(out)

    def _to_numpy(self, out) -> dict[str, np.ndarray]:
        if not isinstance(out, dict):
            raise BackendError("the torch module must return a dict of named outputs")
        return {k: out[k].detach().float().cpu().numpy() if out[k].is_floating_point() else out[k].cpu().numpy()
                for k in self.output_names}

    def _capture(self, inputs: dict[str, np.ndarray]):
        torch = self.torch
        static = {k: torch.from_numpy(v).to(self.device) for k, v in inputs.items()}
        try:
            side = torch.cuda.Stream()  # warm-up off the default stream, as capture requires
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side), torch.inference_mode():
                for _ in range(2):
                    self.module(**static)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph), torch.inference_mode():
                out = self.module(**static)
        except Exception as exc:  # noqa: BLE001 - any capture failure: run this shape eagerly
            log.warning("torch backend: cannot capture a CUDA graph for inputs %s (%s: %s); running eagerly",
                        {k: v.shape for k, v in inputs.items()}, type(exc).__name__, exc)
            return None
        if not isinstance(out, dict):
            raise BackendError("the torch module must return a dict of named outputs")
        return graph, static, out

    def _replay(self, entry, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        graph, static, out = entry
        for k, v in inputs.items():
            static[k].copy_(self.torch.from_numpy(v))
        graph.replay()
        return self._to_numpy(out)  # copied out before the next replay overwrites the static outputs
