"""bench/bench_gpu.py: inputs prepared on one machine and timed on another; the script checked on the CPU."""
from __future__ import annotations

import json

import pytest
import torch

from hoi_perception.benchmarks import gpu as bench


def test_prepared_inputs_run_the_shipped_inference(engine_dataset, tmp_path, capsys):
    fb, ho = engine_dataset("fullbody", 3, 21, 128), engine_dataset("hand", 2, 5, 128, frames=2)
    npz = tmp_path / "inputs.npz"
    assert bench.main(["--prepare", str(npz), "--fullbody-data", str(fb), "--handobject-data", str(ho)]) == 0
    capsys.readouterr()
    assert bench.main(["--inputs", str(npz), "--device", "cpu", "--repeats", "1", "--batches", "1", "--json"]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    f, h = r["fullbody"], r["handobject"]
    assert f["end_to_end_scenes"] == 3 and h["clips"] == 2 and h["frames"] == 2
    # on one device the two backends run the same kernels: any difference would be a plumbing error
    assert max(f["gpu_vs_cpu_max_abs"].values()) == 0 and max(h["gpu_vs_cpu_max_abs"].values()) == 0
    assert f["end_to_end_ms_per_frame_no_flip_no_fit"] < f["end_to_end_ms_per_frame"]
    assert set(r["other_backends"]) == {"onnxruntime", "tensorrt"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_no_gpu_is_said_not_timed(capsys):
    assert bench.main(["--inputs", "unused.npz"]) == 1
    assert "no CUDA GPU" in capsys.readouterr().err
