"""Live code stays apart from the data engine, training and evaluation: each shipped reconstructor
is built and run on a frame in a fresh interpreter, whose loaded modules are then checked. And the
shared assets leave torch's thread count to the backend."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hoi_perception.paths import models_dir

# modules that only data generation, training or evaluation may load
FORBIDDEN_PREFIXES = ("hoi_perception.synth", "hoi_perception.metrics", "hoi_perception.benchmarks",
                      "hoi_perception.fullbody.training", "hoi_perception.handobject.training",
                      "hoi_perception.contacts.training", "hoi_perception.spatialprior.training",
                      "hoi_perception.training_log", "hoi_perception.schedule")

RUN_ONE_FRAME = """
import json, sys
import numpy as np
from hoi_perception.pipeline.stages import load_reconstructor
from hoi_perception.pipeline.types import CameraIntrinsics, Frame
import hoi_perception.runtime.cli, hoi_perception.runtime.sink, hoi_perception.pipeline.msg_convert

task = sys.argv[1]
recon = load_reconstructor(task, task, backend=sys.argv[2], threads=int(sys.argv[3]))
h, w = 240, 320
rng = np.random.default_rng(0)
image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
person = np.zeros((h, w), np.uint8); person[40:220, 120:200] = 1
obj = np.zeros((h, w), np.uint8); obj[120:160, 190:230] = 1
k = CameraIntrinsics(fx=300.0, fy=300.0, cx=w / 2, cy=h / 2, width=w, height=h)
for i in range(3):
    frame = Frame(image=image, intrinsics=k, stamp_ns=i * 33_000_000, frame_id="camera", index=i,
                  masks=np.stack([person, obj]) if task == "fullbody" else None)
    try:
        recon.reconstruct(frame)
    except Exception as exc:  # what the frame gives does not matter here, only what it loads
        print("frame:", type(exc).__name__, exc, file=sys.stderr)
import torch
print(json.dumps({"modules": sorted(sys.modules), "threads": torch.get_num_threads()}))
"""


def _run(task: str, backend: str = "onnxruntime", threads: int = 1) -> dict:
    out = subprocess.run([sys.executable, "-c", RUN_ONE_FRAME, task, backend, str(threads)], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("task", ["fullbody", "handobject"])
def test_shipped_reconstructor_loads_no_engine_training_or_evaluation_code(task):
    if not (models_dir() / task / "model_card.yaml").is_file():
        pytest.skip(f"no shipped {task} model")
    loaded = _run(task)["modules"]
    bad = [m for m in loaded if m.startswith(FORBIDDEN_PREFIXES)]
    assert not bad, f"live {task} inference loaded {bad}"


def test_torch_backend_keeps_its_thread_count():
    """The body model and object library come from `assets`, which leaves threads alone."""
    if not (models_dir() / "fullbody" / "model_card.yaml").is_file():
        pytest.skip("no shipped fullbody model")
    assert _run("fullbody", backend="torch", threads=2)["threads"] == 2


def test_assets_do_not_touch_torch_threads():
    import torch

    from hoi_perception import assets

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assets.body_model()
        assets.object_library()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
