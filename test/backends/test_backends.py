"""The inference-backend interface: devices, clear refusals, and agreement across devices.

The GPU cases run where a CUDA GPU (and onnxruntime-gpu / TensorRT) is present and are skipped
elsewhere; the refusals are checked on every machine that lacks the GPU piece they refuse.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from hoi_perception.backends import BackendError, default_device, load_backend
from hoi_perception.backends.tensorrt_backend import engine_cache_path
from hoi_perception.fullbody.model import EXPORT_OUTPUTS, CrossHOI, ExportWrapper, ModelConfig
from hoi_perception.fullbody.reconstructor import INPUT_NAMES
from hoi_perception.fullbody.training.release import export

CUDA = torch.cuda.is_available()
GPU_TOLERANCE = 1e-3  # metres / probabilities: float32 on another device, other kernels and summation orders
FP16_TOLERANCE = 2e-2  # TensorRT FP16 engine against the float32 graph


def _ort_cuda() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def _tensorrt() -> bool:
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return False
    return CUDA


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny full-body network, its ONNX file and one batch of inputs."""
    torch.manual_seed(0)
    net = CrossHOI(ModelConfig.tiny(cross_view=True)).eval()
    path = export(net, tmp_path_factory.mktemp("onnx") / "tiny.onnx")
    g = torch.Generator().manual_seed(1)
    c = net.cfg.crop
    feeds = {"image": torch.randn(2, 5, c, c, generator=g).numpy(),
             "intrinsics": np.array([[1.4, 1.4, 0.5, 0.5]] * 2, np.float32),
             "template": (torch.randn(2, 64, 3, generator=g) * 0.1).numpy()}
    return net, path, feeds


def _torch(net, device, cuda_graph=True):
    # a backend moves its module to its device: one copy each
    return load_backend("torch", torch_module=ExportWrapper(copy.deepcopy(net)), input_names=INPUT_NAMES,
                        output_names=EXPORT_OUTPUTS, device=device, cuda_graph=cuda_graph)


def _assert_close(a: dict, b: dict, atol: float) -> None:
    for name in EXPORT_OUTPUTS:
        np.testing.assert_allclose(a[name], b[name], atol=atol, rtol=atol, err_msg=name)


def test_unknown_device_and_backend_are_refused(tiny):
    net, path, _ = tiny
    with pytest.raises(BackendError, match="unknown device 'gpu0'"):
        load_backend("onnxruntime", onnx_path=path, device="gpu0")
    with pytest.raises(BackendError, match="unknown backend"):
        load_backend("openvino", onnx_path=path)


def test_tensorrt_runs_on_the_gpu_only(tiny):
    _, path, _ = tiny
    assert default_device("tensorrt") == "cuda" and default_device("onnxruntime") == "cpu"
    with pytest.raises(BackendError, match="GPU only"):
        load_backend("tensorrt", onnx_path=path, device="cpu")


@pytest.mark.skipif(CUDA, reason="this machine has a CUDA GPU")
def test_torch_on_cuda_without_a_gpu_is_refused(tiny):
    with pytest.raises(BackendError, match="no CUDA GPU"):
        _torch(tiny[0], "cuda")


@pytest.mark.skipif(_ort_cuda(), reason="this onnxruntime has the CUDA provider")
def test_onnxruntime_on_cuda_without_its_provider_is_refused(tiny):
    with pytest.raises(BackendError, match="onnxruntime-gpu"):
        load_backend("onnxruntime", onnx_path=tiny[1], device="cuda")


@pytest.mark.skipif(_tensorrt(), reason="TensorRT and a GPU are present")
def test_tensorrt_missing_is_a_clear_error(tiny):
    with pytest.raises(BackendError, match="TensorRT|GPU"):
        load_backend("tensorrt", onnx_path=tiny[1])


def test_engine_cache_key_follows_model_precision_and_gpu(tmp_path):
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    a.write_bytes(b"model-a")
    b.write_bytes(b"model-b")
    key = engine_cache_path(a, True, "10.0", "GPU X", tmp_path)
    assert key == engine_cache_path(a, True, "10.0", "GPU X", tmp_path)
    others = {engine_cache_path(b, True, "10.0", "GPU X", tmp_path), engine_cache_path(a, False, "10.0", "GPU X", tmp_path),
              engine_cache_path(a, True, "10.1", "GPU X", tmp_path), engine_cache_path(a, True, "10.0", "GPU Y", tmp_path)}
    assert key not in others and len(others) == 4


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_torch_cuda_agrees_with_cpu(tiny):
    net, _, feeds = tiny
    _assert_close(_torch(net, "cuda").run(feeds), _torch(net, "cpu").run(feeds), GPU_TOLERANCE)


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_cuda_graph_replay_matches_eager_on_new_inputs(tiny):
    net, _, feeds = tiny
    graphed, eager = _torch(net, "cuda"), _torch(net, "cuda", cuda_graph=False)
    first = graphed.run(feeds)  # captures
    other = {k: v[::-1].copy() for k, v in feeds.items()}  # the batch reversed: new values, same shapes
    second = graphed.run(other)
    assert len(graphed._graphs) == 1 and next(iter(graphed._graphs.values())) is not None
    _assert_close(first, eager.run(feeds), 1e-5)
    _assert_close(second, eager.run(other), 1e-5)  # static buffers refilled, not stale
    _assert_close(graphed.run({k: v[:1] for k, v in feeds.items()}), eager.run({k: v[:1] for k, v in feeds.items()}), 1e-5)
    assert len(graphed._graphs) == 2  # one graph per input shape


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_uncapturable_forward_falls_back_to_eager():
    class HostSync(torch.nn.Module):
        def forward(self, x):
            return {"y": x * float(x.sum().item())}  # .item() syncs with the host: not capturable

    be = load_backend("torch", torch_module=HostSync(), input_names=("x",), output_names=("y",), device="cuda")
    x = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(be.run({"x": x})["y"], x * 6.0)
    assert list(be._graphs.values()) == [None]


@pytest.mark.skipif(not _ort_cuda(), reason="needs onnxruntime-gpu and a GPU")
def test_onnxruntime_cuda_agrees_with_cpu(tiny):
    _, path, feeds = tiny
    _assert_close(load_backend("onnxruntime", onnx_path=path, device="cuda").run(feeds),
                  load_backend("onnxruntime", onnx_path=path).run(feeds), GPU_TOLERANCE)


@pytest.mark.skipif(not _tensorrt(), reason="needs TensorRT and a GPU")
def test_tensorrt_fp16_agrees_and_its_engine_is_cached(tiny, tmp_path):
    _, path, feeds = tiny
    ref = load_backend("onnxruntime", onnx_path=path).run(feeds)
    _assert_close(load_backend("tensorrt", onnx_path=path, engine_cache=tmp_path).run(feeds), ref, FP16_TOLERANCE)
    engines = list(Path(tmp_path).glob("*.engine"))
    assert len(engines) == 1
    # a second backend reads the cached engine instead of building one
    _assert_close(load_backend("tensorrt", onnx_path=path, engine_cache=tmp_path).run(feeds), ref, FP16_TOLERANCE)
    assert list(Path(tmp_path).glob("*.engine")) == engines
