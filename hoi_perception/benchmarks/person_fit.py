"""The person fit on held-out synthetic renders: the full-body reconstructor with and without it.

    hoi-perception synth --kind fullbody --n 30 --seed 77 --split heldout --size 384 --out data/fullbody_heldout384
    hoi-perception bench person_fit --data data/fullbody_heldout384 [--json]

Per scene (view A, object mask given; person mask given too, so both paths see the same evidence):
PA-MPJPE of the 22 body joints against the engine's (mm), root-relative MPJPE (mm), IoU of the
projected body with the true person mask, and whether the front end found the person. Paired
per scene: fitted minus network. Renders are at 384 px: the front end needs a person larger than
the 128 px training renders show. Figures are on SYNTHETIC held-out data.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch


def main(argv=None) -> int:
    from hoi_perception.assets import body_model
    from hoi_perception.fullbody.training.data import view_masks
    from hoi_perception.metrics import mask_iou, mpjpe, pa_mpjpe, paired_rows_by_name
    from hoi_perception.pipeline.stages import load_reconstructor
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError
    from hoi_perception.raster import fill_triangles, pinhole_project
    from hoi_perception.synth.engine import decode_png
    from hoi_perception.synth.shards import ShardSet

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--max-items", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    shards = ShardSet(args.data)
    faces = body_model().faces.numpy()
    recons = {}
    rows, missed = [], 0
    n = len(shards) if args.max_items is None else min(args.max_items, len(shards))
    for i in range(n):
        a, meta, _ = shards.get(i)
        rgb = decode_png(a["rgb_0"])
        human, obj = view_masks(decode_png(a["instance_0"]))
        h, w = rgb.shape[:2]
        k = CameraIntrinsics.from_k(a["K"][0].reshape(-1), w, h)
        t = a["world_to_cam"][0]
        gt = a["body_joints"] @ t[:3, :3].T + t[:3, 3]
        row = {}
        for path in ("fit", "network"):
            key = (path, meta["object_id"])
            if key not in recons:
                recons[key] = load_reconstructor("fullbody", "fullbody", object_class=meta["object_id"],
                                                 person_fit=path == "fit", frontend_mode="image")
            try:
                res = recons[key].reconstruct(Frame(rgb, 0, "camera", k, masks=np.stack([human, obj])))
            except InputError:  # the front end found no person: no result
                row = None
                break
            body = res.bodies[0]
            pred = body.joints[:22]
            sil = fill_triangles(pinhole_project(body.vertices, k.matrix, 1e-3)[faces], (h, w))
            row[f"{path}_pa_mpjpe_mm"] = pa_mpjpe(pred, gt)
            row[f"{path}_mpjpe_mm"] = mpjpe(pred, gt)
            row[f"{path}_iou"] = mask_iou(sil, human)
        if row is None:
            missed += 1
            print(f"scene {i}: no person found by the front end", flush=True)
            continue
        rows.append(row)
        print(f"scene {i}: PA-MPJPE {row['fit_pa_mpjpe_mm']:.0f} mm (network {row['network_pa_mpjpe_mm']:.0f}); "
              f"IoU {row['fit_iou']:.2f} ({row['network_iou']:.2f})", flush=True)
    names = ("pa_mpjpe_mm", "mpjpe_mm", "iou")
    out = {"scenes": n, "without_person": missed}
    if rows:
        for path in ("fit", "network"):
            for m in names:
                out[f"{path}_{m}"] = float(np.mean([r[f"{path}_{m}"] for r in rows]))
    if len(rows) > 1:
        out["fit_minus_network"] = paired_rows_by_name(rows, names)
    print(json.dumps(out, indent=1))
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
