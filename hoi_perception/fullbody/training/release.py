"""Package trained checkpoints as models/fullbody: fp16 safetensors (torch), ONNX (fp32), the model card
(model_card.yaml: only what loading reads) and provenance.yaml (training record and metrics, kept apart
so loading never parses them; keys of an earlier provenance.yaml not rewritten here are kept).

    python -m hoi_perception.fullbody.training.release --cross runs/fb_cross/ckpt.pt --single runs/fb_single/ckpt.pt \
        --data data/fullbody_train --out models/fullbody [--bench bench.json] [--extra training.json] \
        [--flip-average yes|no] [--silhouette-fit yes|no]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import yaml

from hoi_perception.atomic_files import atomic_write_bytes
from hoi_perception.synth.shards import read_manifest

from ..model import EXPORT_OUTPUTS, CrossHOI, ExportWrapper, ModelConfig
from ..reconstructor import load_weights
from .data import manifest_hash, train_classes
from .train import load_checkpoint

PROVENANCE_HEADER = "# Training record and metrics of this release; not read when the model loads.\n"


def save_weights(model: torch.nn.Module, path: Path, fp16: bool = True) -> None:
    from safetensors.torch import save_file

    sd = {k: (v.half() if fp16 and v.is_floating_point() else v).contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_suffix(".tmp")
    save_file(sd, str(tmp))
    tmp.replace(path)


def export(model: CrossHOI, path: Path) -> Path:
    """ONNX export through the shared backend helper (dynamic batch, checked, atomic)."""
    from hoi_perception.backends import export_onnx

    c = model.cfg
    ex = {"image": torch.zeros(1, 5, c.crop, c.crop), "intrinsics": torch.tensor([[1.2, 1.2, 0.5, 0.5]]),
          "template": torch.randn(1, 64, 3) * 0.1}
    return export_onnx(ExportWrapper(model).eval(), ex, path, EXPORT_OUTPUTS, opset=17)


def config_from_checkpoint(ck: dict) -> ModelConfig:
    return ModelConfig(**json.loads(ck["config"]))


def _setting(flag: str | None, old: dict, key: str) -> bool:
    """An inference setting: as given (yes/no), else as the card was (false on a new card)."""
    return (flag == "yes") if flag else bool(old.get(key, False))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cross", required=True)
    ap.add_argument("--single", required=True)
    ap.add_argument("--data", required=True, nargs="+", help="the training shard folder(s)")
    ap.add_argument("--out", default="models/fullbody")
    ap.add_argument("--bench", default=None, help="JSON line printed by bench_fullbody.py --json")
    ap.add_argument("--extra", default=None, help="JSON with training facts to record in the card")
    ap.add_argument("--flip-average", choices=("yes", "no"), default=None,
                    help="average in the pass on the mirrored crop at inference (flip.py); default: as the card was")
    ap.add_argument("--silhouette-fit", choices=("yes", "no"), default=None,
                    help="fit the object to its mask at inference (silhouette_fit.py); default: as the card was")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ck_c, ck_s = load_checkpoint(args.cross), load_checkpoint(args.single)
    cfg = config_from_checkpoint(ck_c)
    cross = CrossHOI(cfg)
    cross.load_state_dict(ck_c["model"])
    single_cfg = config_from_checkpoint(ck_s)
    single = CrossHOI(single_cfg)
    single.load_state_dict(ck_s["model"])
    save_weights(cross, out / "model.safetensors")
    save_weights(single, out / "baseline_single_view.safetensors")
    # export the fp16-rounded weights so every backend runs the same numbers
    shipped = CrossHOI(cfg)
    load_weights(shipped, out / "model.safetensors")
    export(shipped.eval(), out / "model.onnx")
    card_path = out / "model_card.yaml"
    old = yaml.safe_load(card_path.read_text()) if card_path.is_file() else {}
    card = {
        "name": out.name, "task": "fullbody", "format": "python",
        "entry_point": "hoi_perception.fullbody.reconstructor:build",
        "backend": "onnxruntime", "threads": 1,
        "flip_average": _setting(args.flip_average, old, "flip_average"),
        "silhouette_fit": _setting(args.silhouette_fit, old, "silhouette_fit"),
        "weights_onnx": "model.onnx", "weights_torch": "model.safetensors",
        "baseline_weights_torch": "baseline_single_view.safetensors",
        "config": cfg.to_dict(), "baseline_config": single_cfg.to_dict(), "classes": train_classes(),
        "body_model_id": "anny_body", "joint_set": "anny_body22+hands42",
        "masks": "Frame.masks: person mask(s) first, object mask last",
        "licence": "weights trained here on synthetic data (anny CC0 body, YCB and procedural objects)",
    }
    prov_path = out / "provenance.yaml"
    prov = yaml.safe_load(prov_path.read_text()) if prov_path.is_file() else {}
    prov["training"] = {
        "data": " + ".join(args.data),
        "dataset_manifest_sha256": " + ".join(manifest_hash(d) for d in args.data),
        "dataset_content_hash": " + ".join(str(read_manifest(d).get("content_hash")) for d in args.data),
        "cross_view_steps": int(ck_c["step"]), "cross_view_wall_s": round(float(ck_c["elapsed"]), 1),
        "single_view_steps": int(ck_s["step"]), "single_view_wall_s": round(float(ck_s["elapsed"]), 1),
    }
    if args.extra:
        prov["training"].update(json.loads(Path(args.extra).read_text()))
    if args.bench:
        prov["metrics"] = json.loads(Path(args.bench).read_text().strip().splitlines()[-1])
    atomic_write_bytes(card_path, yaml.safe_dump(card, sort_keys=False).encode())
    atomic_write_bytes(prov_path, (PROVENANCE_HEADER + yaml.safe_dump(prov, sort_keys=False)).encode())
    for p in sorted(out.iterdir()):
        p.chmod(0o644)  # temporary files are created 0600; shipped files must be readable by every user
        print(f"{p.name}: {p.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    raise SystemExit(main())
