"""Score object segmenters side by side: on held-out renders (mean IoU over both views, the prompt from
the true masks and hand joints, as in training) and on the 12 real BEHAVE/COCO photos with no mask
given (the prompt from the front end, as the full-body pipeline makes it). A model is a released folder
or a training checkpoint (released into a temporary folder first, so what is scored is what would ship).

    python -m hoi_perception.objectmask.training.evaluate --model models/objectmask,runs/objectmask_clutter/best.pt \\
        --heldout data/fullbody_heldout40,data/fullbody_heldout40_clutter --real [--json]

Real photos: per photo, and each model's mean paired against the first model's.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np


def _released(model: str, scratch: Path) -> Path:
    if not model.endswith(".pt"):
        return Path(model)
    from .release import main as release

    out = scratch / Path(model).stem
    release(["--checkpoint", model, "--out", str(out)])
    return out


def heldout_scores(folder: Path, sets: list[str]) -> dict[str, float]:
    from ..segmenter import load_torch_net, read_card
    from .data import load_views
    from .train import heldout_iou

    net = load_torch_net(folder, read_card(folder).get("weights_torch", "model.safetensors"))
    return {Path(s).name: round(heldout_iou(net, load_views([Path(s)])), 4) for s in sets}


def real_prompts() -> list[dict]:
    """Per photo: the image, the true object mask, and the front end's person mask and hand points."""
    from hoi_perception.benchmarks.real import real_photos
    from hoi_perception.frontend.factory import make_frontend
    from hoi_perception.fullbody.person import ChosenPerson, _person_region, choose_person

    from ..sources import hand_points

    front = make_frontend(mode="image")
    out = []
    for it, bgr, _, om, _, _ in real_photos():
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        det = front.detect(rgb)
        item = {"id": it["id"], "rgb": rgb, "object": om, "person": None}
        if det.people:
            i, reason = choose_person(det, None)  # as the pipeline chooses with no object mask
            chosen = ChosenPerson(det, i, reason, _person_region(det, i))
            item.update(person=chosen.mask, points=hand_points(chosen.person, chosen.hands))
        out.append(item)
    front.close()
    return out


def real_scores(folder: Path, prompts: list[dict]) -> list[float]:
    from hoi_perception.metrics import mask_iou

    from ..segmenter import ObjectSegmenter

    seg = ObjectSegmenter(folder)
    scores = []
    for p in prompts:
        found = None if p["person"] is None else seg.segment(p["rgb"], p["person"], p["points"]).mask
        scores.append(0.0 if found is None else float(mask_iou(found, p["object"])))
    return scores


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="released folders or checkpoints (.pt), separated by commas")
    ap.add_argument("--heldout", default="", help="held-out full-body shard folders, separated by commas")
    ap.add_argument("--real", action="store_true", help="also the 12 real photos, prompted by the front end")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from hoi_perception.metrics import paired_difference

    models = args.model.split(",")
    sets = [s for s in args.heldout.split(",") if s]
    prompts = real_prompts() if args.real else []
    result: dict = {"models": []}
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            folder = _released(model, Path(tmp))
            row: dict = {"model": model, "heldout_iou": heldout_scores(folder, sets)}
            if prompts:
                row["real_iou"] = real_scores(folder, prompts)
                row["real_mean"] = float(np.mean(row["real_iou"]))
                first = result["models"][0]["real_iou"] if result["models"] else row["real_iou"]
                m, se = paired_difference(np.array(row["real_iou"]), np.array(first))
                row["real_minus_first"] = [float(m), float(se)]
            result["models"].append(row)
            print(f"{model}: held out {row['heldout_iou']}", flush=True)
            if prompts:
                per = ", ".join(f"{p['id']} {v:.2f}" for p, v in zip(prompts, row["real_iou"]))
                print(f"  real photos: mean {row['real_mean']:.3f}, minus the first model "
                      f"{row['real_minus_first'][0]:+.3f} ± {row['real_minus_first'][1]:.3f} ({per})", flush=True)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
