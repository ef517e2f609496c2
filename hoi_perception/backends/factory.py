"""Builds an inference backend by name; the backends themselves import only `base`."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .base import BackendError, InferenceBackend

BACKENDS = ("torch", "onnxruntime", "tensorrt")
DEVICES = ("cpu", "cuda")


def load_backend(kind: str, *, onnx_path: str | Path | None = None,
                 torch_module: Callable | None = None, input_names=None, output_names=None,
                 threads: int = 1, fp16: bool = True, engine_cache: str | Path | None = None,
                 device: str = "cpu", cuda_graph: bool = True) -> InferenceBackend:
    """Create a backend. onnxruntime and tensorrt need `onnx_path`; torch needs `torch_module`
    (an nn.Module taking the inputs as keyword arguments and returning a dict) plus names.
    `device` "cuda" runs torch on the GPU and onnxruntime through its CUDA provider (an
    onnxruntime-gpu install); tensorrt always runs on the GPU. `cuda_graph`: torch on the GPU replays
    each input shape's forward as a captured CUDA graph (torch_backend.py)."""
    if device not in DEVICES:
        raise BackendError(f"unknown device {device!r}; choose one of {DEVICES}")
    if kind == "onnxruntime":
        from .onnxruntime_backend import OnnxRuntimeBackend

        return OnnxRuntimeBackend(_need_file(onnx_path), threads=threads, device=device)
    if kind == "tensorrt":
        if device != "cuda":
            raise BackendError("the tensorrt backend runs on the GPU only: use device 'cuda' "
                               "(or the onnxruntime backend on the CPU)")
        from .tensorrt_backend import TensorRTBackend

        return TensorRTBackend(_need_file(onnx_path), fp16=fp16, engine_cache=engine_cache)
    if kind == "torch":
        from .torch_backend import TorchBackend

        if torch_module is None or input_names is None or output_names is None:
            raise BackendError("the torch backend needs torch_module, input_names and output_names")
        return TorchBackend(torch_module, tuple(input_names), tuple(output_names), threads=threads, device=device,
                            cuda_graph=cuda_graph)
    raise BackendError(f"unknown backend {kind!r}; choose one of {BACKENDS}")


def default_device(kind: str) -> str:
    """The device a backend runs on when none is asked for: tensorrt's is the GPU, the others' the CPU."""
    return "cuda" if kind == "tensorrt" else "cpu"


def _need_file(path) -> Path:
    if path is None:
        raise BackendError("this backend needs the model's ONNX file (onnx_path)")
    p = Path(path)
    if not p.is_file():
        raise BackendError(f"model file not found: {p}")
    if p.stat().st_size < 16:
        raise BackendError(f"model file {p} is truncated ({p.stat().st_size} bytes)")
    return p
