"""ONNX Runtime: the default backend on the CPU; on a GPU through its CUDA provider (onnxruntime-gpu)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import BackendError, InferenceBackend


class OnnxRuntimeBackend(InferenceBackend):
    name = "onnxruntime"

    def __init__(self, onnx_path: Path, threads: int = 1, device: str = "cpu"):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendError(f"onnxruntime is not installed: {exc}") from exc
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            # no silent fall-back to the CPU: a GPU asked for and not there is an error
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise BackendError("device 'cuda' asked for, but this onnxruntime has no CUDA provider "
                                   f"(available: {', '.join(ort.get_available_providers())}); install "
                                   "onnxruntime-gpu, or use the torch backend on the GPU")
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        self.device = device
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(onnx_path), sess_options=opts,
                                                providers=providers)
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            raise BackendError(f"cannot load {onnx_path} (truncated or not an ONNX model?): {exc}") from exc
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        self.output_names = tuple(o.name for o in self.session.get_outputs())

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            outs = self.session.run(list(self.output_names), inputs)
        except Exception as exc:  # noqa: BLE001
            raise BackendError(f"onnxruntime failed: {exc}") from exc
        return dict(zip(self.output_names, outs))
