"""One inference-backend interface for every network: torch, ONNX Runtime (CPU default), TensorRT.

All backends run the same exported graph contract: named float32 inputs in, named outputs out,
as numpy arrays. Pre- and post-processing live with each reconstructor and are shared by all
backends, so switching backend never changes what a model means.

    backend = load_backend("onnxruntime", onnx_path="models/x/model.onnx")
    outputs = backend.run({"image": image, "intrinsics": k})
"""
from __future__ import annotations

from .base import BackendError, InferenceBackend
from .export import export_onnx
from .factory import BACKENDS, DEVICES, default_device, load_backend

__all__ = ["BackendError", "InferenceBackend", "load_backend", "default_device", "BACKENDS", "DEVICES",
           "export_onnx"]
