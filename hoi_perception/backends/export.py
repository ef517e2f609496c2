"""ONNX export shared by every network: dynamic batch, checked, written atomically."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .base import BackendError


def export_onnx(module, example_inputs: dict, path: str | Path, output_names, opset: int = 18,
                dynamic_batch: bool = True) -> Path:
    """Export `module(**example_inputs) -> dict` to ONNX with the given input/output names."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(example_inputs)
    args = tuple(example_inputs[n] for n in names)

    class _Positional(torch.nn.Module):  # torch.onnx passes positional args; map them to names
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *xs):
            out = self.inner(**dict(zip(names, xs)))
            return tuple(out[n] for n in output_names)

    dyn = {n: {0: "batch"} for n in [*names, *output_names]} if dynamic_batch else None
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        torch.onnx.export(_Positional(module.eval()), args, tmp, input_names=names, output_names=list(output_names),
                          dynamic_axes=dyn, opset_version=opset, dynamo=False)
        import onnx

        onnx.checker.check_model(tmp)
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise BackendError(f"ONNX export of {type(module).__name__} failed: {exc}") from exc
    return path
