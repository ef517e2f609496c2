"""TensorRT: an FP16 engine built from the project's ONNX file, cached next to other build artefacts.

TensorRT exists only on NVIDIA machines (Jetson, desktop GPUs); importing this module elsewhere
is fine, creating the backend raises a clear BackendError. Engines are cached per (ONNX bytes,
precision, TensorRT version, GPU) so they are built once per machine.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from .base import BackendError, InferenceBackend


def engine_cache_path(onnx_path: Path, fp16: bool, trt_version: str, device_name: str, cache: Path) -> Path:
    h = hashlib.sha256(onnx_path.read_bytes())
    h.update(f"fp16={fp16};trt={trt_version};gpu={device_name}".encode())
    return cache / f"{onnx_path.stem}-{h.hexdigest()[:20]}.engine"


class TensorRTBackend(InferenceBackend):
    name = "tensorrt"
    device = "cuda"

    def __init__(self, onnx_path: Path, fp16: bool = True, engine_cache: str | Path | None = None,
                 workspace_bytes: int = 1 << 30):
        try:
            import tensorrt as trt
            import torch
        except ImportError as exc:
            raise BackendError("TensorRT is not available on this machine (pip/apt tensorrt and a CUDA GPU "
                               f"are needed); use the onnxruntime backend instead ({exc})") from exc
        if not torch.cuda.is_available():
            raise BackendError("TensorRT needs a CUDA GPU; none is visible")
        from hoi_perception.paths import cache_dir

        self.trt, self.torch = trt, torch
        cache = Path(engine_cache) if engine_cache else cache_dir() / "tensorrt"
        cache.mkdir(parents=True, exist_ok=True)
        path = engine_cache_path(Path(onnx_path), fp16, trt.__version__, torch.cuda.get_device_name(), cache)
        logger = trt.Logger(trt.Logger.WARNING)
        runtime = trt.Runtime(logger)
        if path.is_file():
            engine = runtime.deserialize_cuda_engine(path.read_bytes())
        else:
            engine = None
        if engine is None:
            data = self._build(trt, logger, Path(onnx_path), fp16, workspace_bytes)
            fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            engine = runtime.deserialize_cuda_engine(data)
        if engine is None:
            raise BackendError(f"TensorRT could not deserialize the engine built from {onnx_path}")
        self.engine = engine
        self.context = engine.create_execution_context()
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self.input_names = tuple(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT)
        self.output_names = tuple(n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT)

    @staticmethod
    def _build(trt, logger, onnx_path: Path, fp16: bool, workspace_bytes: int) -> bytes:
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, logger)
        if not parser.parse(onnx_path.read_bytes()):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise BackendError(f"TensorRT cannot parse {onnx_path}: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
        if fp16 and builder.platform_has_fast_fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        profile = builder.create_optimization_profile()
        for i in range(network.num_inputs):  # dynamic batch: 1..8, optimised for 1
            t = network.get_input(i)
            shape = list(t.shape)
            if shape and shape[0] == -1:
                rest = [int(d) for d in shape[1:]]
                profile.set_shape(t.name, [1, *rest], [1, *rest], [8, *rest])
        config.add_optimization_profile(profile)
        data = builder.build_serialized_network(network, config)
        if data is None:
            raise BackendError(f"TensorRT failed to build an engine from {onnx_path}")
        return bytes(data)

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        torch = self.torch
        dev = {}
        for n in self.input_names:
            t = torch.from_numpy(inputs[n]).cuda()
            dev[n] = t
            self.context.set_input_shape(n, tuple(t.shape))
            self.context.set_tensor_address(n, t.data_ptr())
        outs = {}
        for n in self.output_names:
            shape = tuple(self.context.get_tensor_shape(n))
            dtype = torch.float32 if self.engine.get_tensor_dtype(n) in (self.trt.float32, self.trt.float16) else torch.int64
            o = torch.empty(shape, dtype=dtype if self.engine.get_tensor_dtype(n) != self.trt.float16 else torch.float16,
                            device="cuda")
            outs[n] = o
            self.context.set_tensor_address(n, o.data_ptr())
        stream = torch.cuda.current_stream()
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise BackendError("TensorRT execution failed")
        stream.synchronize()
        return {n: o.float().cpu().numpy() if o.is_floating_point() else o.cpu().numpy() for n, o in outs.items()}
