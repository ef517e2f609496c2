"""ONNX Runtime on the CPU: the default backend on machines without TensorRT."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import BackendError, InferenceBackend


class OnnxRuntimeBackend(InferenceBackend):
    name = "onnxruntime"

    def __init__(self, onnx_path: Path, threads: int = 1, providers=None):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise BackendError(f"onnxruntime is not installed: {exc}") from exc
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(onnx_path), sess_options=opts,
                                                providers=providers or ["CPUExecutionProvider"])
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
