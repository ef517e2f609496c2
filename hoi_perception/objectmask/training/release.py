"""Package a trained object segmenter as models/objectmask: fp16 safetensors (torch backend), ONNX
(fp32; ONNX Runtime and TensorRT), card.yaml (what loading reads, plus the training record and
figures) and MODEL_CARD.md for people.

    python -m hoi_perception.objectmask.training.release --checkpoint runs/objectmask/best.pt \\
        --out models/objectmask [--real bench_real.json] [--hardware "2 CPU cores"]

``--real``: the JSON line of `hoi-perception bench real --parts frames --json`, whose object-mask
figures on the real photos go into the card.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import yaml

from hoi_perception.atomic_files import atomic_write_bytes
from hoi_perception.fullbody.training.release import save_weights

from ..net import SegmenterNet
from ..prompt import SIZE
from ..segmenter import CARD

CARD_HEADER = "# The object segmenter (hoi_perception/objectmask); loading reads weights_onnx, weights_torch, mask_level.\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--real", default=None, help="JSON output of `bench real --parts frames --json`")
    ap.add_argument("--hardware", default="2 CPU cores (x86-64), no GPU")
    ap.add_argument("--mask-level", type=float, default=0.5)
    args = ap.parse_args(argv)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    facts = json.loads(state["facts"])
    net = SegmenterNet()
    net.load_state_dict(state["model"])
    net.eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_weights(net, out / "model.safetensors")
    from hoi_perception.backends import export_onnx

    export_onnx(net, {"inputs": torch.zeros(1, 5, SIZE, SIZE)}, out / "model.onnx", ("logits",), opset=17)
    metrics = {"synthetic_heldout_mask_iou": round(float(facts["heldout_iou"]), 4),
               "synthetic_heldout": f"{Path(facts['heldout']).name} (both views of each scene, objects unseen in "
                                    "training, the prompt from the true masks and hand joints)"}
    if args.real:
        line = [ln for ln in Path(args.real).read_text().splitlines() if ln.startswith("{")][-1]
        frames = json.loads(line)["frames"]
        metrics["real_frames"] = ("the 12 BEHAVE/COCO photos with no mask given, the prompt from the front end "
                                  "(bench real --parts frames); [mean, standard error]")
        for key in ("segmenter_mask_iou", "segmenter_object_iou"):
            if key in frames:
                metrics[f"real_frames_{key}"] = [round(float(v), 4) for v in frames[key]]
    card = {"name": "objectmask", "weights_onnx": "model.onnx", "weights_torch": "model.safetensors",
            "mask_level": args.mask_level, "input_size": SIZE,
            "training": {"data": [Path(d).name for d in facts["data"]], "data_manifest_sha256": facts["data_sha256"],
                         "seed": facts["seed"],
                         "steps": int(state["step"]), "of_steps": facts["steps"], "batch": facts["batch"],
                         "wall_s": round(float(facts["wall_s"])), "hardware": args.hardware},
            "metrics": metrics,
            "licence": "trained here from the project's synthetic renders; no third-party weights"}
    if facts.get("init"):  # a fine-tune: the weights it started from (their record is in MODEL_CARD.md)
        card["training"]["init"] = facts["init"]
        card["training"]["lr"] = facts.get("lr")
    atomic_write_bytes(out / CARD, (CARD_HEADER + yaml.safe_dump(card, sort_keys=False)).encode())
    print(yaml.safe_dump(card, sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
