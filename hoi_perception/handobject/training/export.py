"""Checkpoint -> shipped model folder: fp16 safetensors + net_config.json + fp32 ONNX (6 frame slots),
checked torch vs onnxruntime through `hoi_perception.backends`.

    python -m hoi_perception.handobject.training.export --checkpoint runs/handobject/last.pt --out models/handobject
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from ..encoding import GRID_RES, IMAGE_SIZE, MASK_SIZE, MAX_FRAMES
from ..infer import OUTPUT_NAMES, input_names, load_torch_model, net_variant
from ..model import HandObjectNet, NetConfig

ORT_TOLERANCE = 2e-3  # max |torch - ORT| on every output (logits/encodings), fp32


def example_inputs(n_valid: int = 4, seed: int = 0, variant: str = "direct") -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    valid = torch.zeros(1, MAX_FRAMES)
    valid[0, :n_valid] = 1
    k = torch.tensor([0.85, 0.85, 0.5, 0.5]).expand(1, MAX_FRAMES, 4).clone()
    feeds = {"images": torch.rand(1, MAX_FRAMES, 3, IMAGE_SIZE, IMAGE_SIZE, generator=g), "intrinsics": k, "valid": valid}
    if variant == "flow":
        feeds.update(t=torch.rand(1, generator=g), noisy_occupancy=torch.randn(1, GRID_RES, GRID_RES, GRID_RES, generator=g),
                     noisy_mask=torch.randn(1, MAX_FRAMES, MASK_SIZE, MASK_SIZE, generator=g))
    return feeds


def write_weights(net: HandObjectNet, out: Path) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().half().contiguous() for k, v in net.state_dict().items()}
    tmp = out / "model.safetensors.tmp"
    save_file(state, str(tmp))
    os.replace(tmp, out / "model.safetensors")
    (out / "net_config.json").write_text(json.dumps(net.cfg.to_dict(), indent=1) + "\n")


def export_folder(net: HandObjectNet, out: Path) -> dict:
    """Write the weights and ONNX file; return the torch-vs-ORT comparison."""
    from hoi_perception.backends import export_onnx

    write_weights(net, out)
    # the ONNX graph is built from the fp16-rounded weights, so every backend runs the same numbers
    module = load_torch_model(out)
    export_onnx(module, example_inputs(variant=net.cfg.variant), out / "model.onnx", OUTPUT_NAMES)
    return compare_backends(out)


def compare_backends(model_dir: Path, n_valid=(2, 4, 6)) -> dict:
    from hoi_perception.backends import load_backend

    variant = net_variant(model_dir)
    t_b = load_backend("torch", torch_module=load_torch_model(model_dir), input_names=input_names(variant),
                       output_names=OUTPUT_NAMES)
    o_b = load_backend("onnxruntime", onnx_path=model_dir / "model.onnx")
    worst = {}
    for n in n_valid:
        feeds = {k: v.numpy() for k, v in example_inputs(n, seed=n, variant=variant).items()}
        a, b = t_b.run(feeds), o_b.run(feeds)
        for name in OUTPUT_NAMES:
            worst[name] = max(worst.get(name, 0.0), float(np.abs(a[name] - b[name]).max()))
    return {"max_abs_diff": worst, "tolerance": ORT_TOLERANCE, "ok": all(v <= ORT_TOLERANCE for v in worst.values())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    net = HandObjectNet(NetConfig.from_dict(json.loads(state["config"])))
    net.load_state_dict(state["model"])
    res = export_folder(net.eval(), Path(args.out))
    sizes = {p.name: p.stat().st_size for p in Path(args.out).iterdir() if p.suffix in (".onnx", ".safetensors")}
    print(json.dumps({**res, "step": int(state["step"]), "sizes": sizes}))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
