"""Hand-held object reconstruction on held-out synthetic clips (held-out objects).

    python bench/bench_handobject.py --data data/ho_heldout --model models/handobject --frames 6 [--json]
    hoi-perception bench handobject --data data/ho_heldout --frames 4 --json

Chamfer: HOLD's definition (metrics.hand_object_chamfer_cm2: squared nearest-neighbour distances in
cm, averaged per direction, both directions summed; cm^2), on 10,000 surface samples per mesh after
EasyHOI-style scale+translation ICP (metrics.align_object_icp); "raw" figures skip the alignment
(metric-scale mesh in the predicted object frame); "sim" ones align rotation as well (HOLD-like).
F@5 / F@10 mm: metrics.fscore on the same samples.
Poses: RPE (metrics.rpe, delta 1), ATE (metrics.ate, rigid), symmetric rotation error per frame.
Hand: MPJPE of the 21 joints in the camera frame (metrics.g_mpjpe) and wrist-aligned (metrics.mpjpe).
Masks: the 2D branch's amodal object, visible object and hand masks against the engine's at 64x64
(metrics.mask_iou, frames where both are empty left out).
Held-out synthetic objects, not HO3D. Time per clip: network + marching cubes + pose refinement,
one thread on this CPU. With --baseline MODEL the second model runs on the same clips and the
per-clip differences (model - baseline) are printed with their standard errors
(metrics.paired_difference): whether two releases differ by more than the choice of clips explains.
F@5 / F@10 are also printed per object family (procedural families, YCB objects by id). --ceiling
scores the engine's own 64^3 occupancy targets through the same surface extraction and alignment:
the grid's ceiling, what a network predicting its training target exactly would reach.
"""
from __future__ import annotations

import argparse
import json
import platform

import numpy as np

HELDOUT_NOTE = "held-out synthetic objects, not HO3D"
TRAIN_NOTE = "synthetic TRAINING-split clips (objects the network was trained on), not HO3D"


def split_note(root) -> tuple[str, str]:
    """What the figures are on, from the set's manifest: held-out objects, or the training split."""
    from hoi_perception.synth.shards import read_manifest

    if read_manifest(root).get("params", {}).get("split") == "heldout":
        return "held-out synthetic clips", HELDOUT_NOTE
    return "training-split synthetic clips", TRAIN_NOTE


# the figures compared clip by clip against --baseline
PAIRED_KEYS = ("chamfer_cm2", "f5", "f10", "f5_raw", "f10_raw", "rpe_trans_cm", "ate_m", "centre_err_cm",
               "iou_amodal", "mask_iou_amodal", "mask_iou_visible", "mask_iou_hand", "hand_mpjpe_mm",
               "hand_mpjpe_wrist_mm")


def evaluate(models: list, shards, n: int, n_frames: int, depth, ceiling: dict | None = None) -> list[tuple[dict, list]]:
    """Per model: {clip index: metrics} over the first n clips and the clips it failed on (each clip read
    once); with a `ceiling` dict, also the grid's ceiling per clip into it (evaluate.grid_ceiling)."""
    from hoi_perception.handobject.training.evaluate import evaluate_clip, grid_ceiling
    from hoi_perception.pipeline.stages import InferenceError

    results = [({}, []) for _ in models]
    for i in range(n):
        arrays, meta, _ = shards.get(i)
        frames = list(range(min(n_frames, int(meta["frames"]))))
        if ceiling is not None:
            ceiling[i] = grid_ceiling(arrays, meta, frames, level=models[0].mesh_level)
        for model, (rows, failures) in zip(models, results):
            try:
                rows[i] = evaluate_clip(model, arrays, meta, frames, depth_mode=depth)
            except InferenceError as exc:
                failures.append(f"clip {i}: {exc}")
    return results


def paired(rows: dict, base_rows: dict) -> dict:
    """Mean and standard error of model - baseline over the clips both reconstructed (and where every
    paired figure is defined: a mask IoU is not where a clip shows no hand at all)."""
    from hoi_perception.metrics import paired_difference_by_name

    def defined(r):
        return all(np.isfinite(r[k]) for k in PAIRED_KEYS)

    common = sorted(i for i in set(rows) & set(base_rows) if defined(rows[i]) and defined(base_rows[i]))
    if len(common) < 2:  # a standard error needs two paired clips
        return {"n": len(common)}
    return paired_difference_by_name([[rows[i][k] for k in PAIRED_KEYS] for i in common],
                                     [[base_rows[i][k] for k in PAIRED_KEYS] for i in common], PAIRED_KEYS)


def confidence_separation(rows: list) -> dict:
    """How well the published confidence (`ClipResult.confidence`: the clip mean of `iou_amodal`) tells
    the better half of the clips (aligned F@10 at or above the median) from the worse half."""
    from hoi_perception.metrics import auroc

    f10 = np.array([r["f10"] for r in rows])
    conf = np.array([r["iou_amodal"] for r in rows])
    median = float(np.median(f10)) if len(f10) else float("nan")
    a, se = auroc(conf, f10 >= median)
    return {"auroc": a, "auroc_se": se, "f10_median": median, "clips": int(len(rows))}


def by_family(rows: list) -> dict:
    """Mean F@5 / F@10 (aligned) and the number of clips per object family."""
    from hoi_perception.handobject.training.evaluate import object_family

    groups: dict = {}
    for r in rows:
        groups.setdefault(object_family(r["object_id"]), []).append(r)
    return {fam: {"clips": len(g), "f5": float(np.mean([r["f5"] for r in g])), "f10": float(np.mean([r["f10"] for r in g]))}
            for fam, g in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="data/ho_heldout", help="shards of `synth --kind hand --split heldout --size 128`")
    ap.add_argument("--model", default="handobject")
    ap.add_argument("--frames", type=int, default=6, help="frames per clip (2-6)")
    ap.add_argument("--n", type=int, default=0, help="clips (0 = all)")
    ap.add_argument("--backend", default="onnxruntime", choices=("onnxruntime", "torch", "tensorrt"))
    ap.add_argument("--depth", choices=("shared", "translation", "rigid"),
                    help="give the rendered depth (RGB-D camera) and fit each pose to it by ICP")
    ap.add_argument("--mesh-level", type=float, help="occupancy level of the extracted surface (default: the card's mesh_level)")
    ap.add_argument("--baseline", help="a second model folder or name, scored on the same clips (paired differences)")
    ap.add_argument("--ceiling", action="store_true",
                    help="also score the engine's occupancy targets through the same extraction (the grid's ceiling)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from hoi_perception.handobject.infer import HandObjectModel
    from hoi_perception.pipeline.stages import read_model_card, resolve_model_dir
    from hoi_perception.synth.shards import ShardSet

    def load(name):
        """(folder, card, model) of a model name or folder; --mesh-level applies to every model scored."""
        folder = resolve_model_dir(name)
        c = read_model_card(folder)
        if args.mesh_level is not None:
            c = dict(c, mesh_level=args.mesh_level)
        return folder, c, HandObjectModel(folder, backend=args.backend, card=c)

    _, card, model = load(args.model)
    models = [model]
    if args.baseline:
        base_dir, _, base_model = load(args.baseline)
        models.append(base_model)
    shards = ShardSet(args.data)
    n = len(shards) if not args.n else min(args.n, len(shards))
    ceiling = {} if args.ceiling else None
    (by_clip, failures), *base = evaluate(models, shards, n, args.frames, args.depth, ceiling)
    rows = list(by_clip.values())
    keys = ["chamfer_cm2", "f5", "f10", "chamfer_cm2_raw", "f5_raw", "f10_raw", "f5_sim", "f10_sim",
            "rpe_trans_cm", "rpe_rot_deg",
            "rpe_still_trans_cm", "rpe_still_rot_deg", "ate_m",
            "centre_err_cm", "centre_err_raw_cm", "rot_err_sym_deg", "iou_amodal", "mask_iou_amodal",
            "mask_iou_visible", "mask_iou_hand", "hand_mpjpe_mm",
            "hand_mpjpe_wrist_mm", "seconds"]
    # only the mask IoUs may be undefined for a clip (no hand anywhere); any other NaN should show
    summary = {k: float((np.nanmean if k.startswith("mask_iou") else np.mean)([r[k] for r in rows])) if rows
               else float("nan") for k in keys}
    summary["chamfer_cm2_median"] = float(np.median([r["chamfer_cm2"] for r in rows])) if rows else float("nan")
    kind, note = split_note(args.data)
    summary.update(data=str(args.data), note=note, clips=len(rows), failed=len(failures), frames=args.frames, backend=args.backend, model=card["name"],
                   depth=args.depth or "none", mesh_level=model.mesh_level,
                   cpu=platform.processor() or platform.machine(), threads=1)
    print(f"hand-object reconstruction, {len(rows)} {kind} ({args.data}), {args.frames} frames, "
          f"{args.backend}, 1 thread, depth ICP: {args.depth or 'none'}, mesh level {model.mesh_level}  [{note}]")
    print(f"  Chamfer (HOLD, cm^2, after scale+translation ICP): mean {summary['chamfer_cm2']:.3f}  median {summary['chamfer_cm2_median']:.3f}")
    print(f"  F@5mm {100 * summary['f5']:.1f} %   F@10mm {100 * summary['f10']:.1f} %")
    print(f"  raw (no alignment): Chamfer {summary['chamfer_cm2_raw']:.3f} cm^2  F@5 {100 * summary['f5_raw']:.1f} %  F@10 {100 * summary['f10_raw']:.1f} %")
    print(f"  after similarity ICP (rotation too, HOLD-like): F@5 {100 * summary['f5_sim']:.1f} %  "
          f"F@10 {100 * summary['f10_sim']:.1f} %")
    print(f"  pose: RPE {summary['rpe_trans_cm']:.2f} cm / {summary['rpe_rot_deg']:.2f} deg   ATE {summary['ate_m']:.3f} m   "
          f"centre error {summary['centre_err_cm']:.2f} cm (before refinement {summary['centre_err_raw_cm']:.2f})   "
          f"rotation error (symmetry-aware) {summary['rot_err_sym_deg']:.1f} deg")
    print(f"  no-motion baseline RPE {summary['rpe_still_trans_cm']:.2f} cm / {summary['rpe_still_rot_deg']:.2f} deg "
          f"(an RPE at this level means the frame-to-frame motion is not tracked)")
    print(f"  rendered mesh vs predicted amodal mask IoU {summary['iou_amodal']:.3f}   hand MPJPE {summary['hand_mpjpe_mm']:.1f} mm "
          f"(wrist-aligned {summary['hand_mpjpe_wrist_mm']:.1f} mm)")
    print(f"  predicted vs ground-truth masks (64x64) IoU: amodal object {summary['mask_iou_amodal']:.3f}   "
          f"visible object {summary['mask_iou_visible']:.3f}   hand {summary['mask_iou_hand']:.3f}")
    print(f"  time per clip {summary['seconds']:.2f} s ({args.frames} frames)")
    summary["confidence"] = confidence_separation(rows)
    c = summary["confidence"]
    print(f"  confidence (clip mean of the rendered-vs-predicted amodal IoU) against the shape: AUROC {c['auroc']:.3f} "
          f"+- {c['auroc_se']:.3f} for telling clips with F@10 >= the median ({100 * c['f10_median']:.1f} %) from the "
          f"rest ({c['clips']} clips; 0.5 = no better than chance)")
    summary["by_family"] = by_family(rows)
    print("  F@5 / F@10 by object family: " + ", ".join(
        f"{fam} {100 * g['f5']:.0f} / {100 * g['f10']:.0f} ({g['clips']})" for fam, g in summary["by_family"].items()))
    if ceiling:
        summary["ceiling"] = {k: float(np.mean([c[k] for c in ceiling.values()])) for k in next(iter(ceiling.values()))}
        c = summary["ceiling"]
        print(f"  grid ceiling (the engine's occupancy targets, same extraction, {len(ceiling)} clips): Chamfer "
              f"{c['chamfer_cm2']:.3f} cm^2  F@5 {100 * c['f5']:.1f} %  F@10 {100 * c['f10']:.1f} %  "
              f"(raw F@5 {100 * c['f5_raw']:.1f} %)")
    for f in failures[:10]:
        print("  failed:", f)
    if base:
        (base_rows, base_failures), = base
        diff = paired(by_clip, base_rows)
        summary["minus_baseline"] = dict(diff, baseline=str(base_dir), baseline_failed=len(base_failures))
        print(f"  model - baseline ({base_dir}), per clip over the {diff['n']} clips both reconstructed "
              f"(mean +- standard error):" + ("" if diff["n"] >= 2 else " too few clips to pair"))
        for k in PAIRED_KEYS if diff["n"] >= 2 else ():
            scale = 100 if k.startswith("f") else 1  # F-scores in percentage points
            print(f"    {k:15s} {scale * diff[k]['mean']:+9.4f} +- {scale * diff[k]['sem']:.4f}{'  (points)' if scale == 100 else ''}")
    if args.json:
        print(json.dumps(summary))
    return 0 if rows else 1


if __name__ == "__main__":
    raise SystemExit(main())
