"""Full-body HOI (CrossHOI, models/fullbody): accuracy on a held-out synthetic set, cross-view vs
single-view, and per-frame latency of torch vs ONNX Runtime at batch 1 on this CPU.

    hoi-perception synth --kind fullbody --n 100 --seed 99 --split heldout --size 128 --out data/fullbody_heldout
    hoi-perception bench fullbody --data data/fullbody_heldout [--json]
    hoi-perception bench fullbody --data data/fullbody_heldout --baseline <older release folder> --no-latency

With the card's flip_average (fullbody/flip.py) the figures are those of the shipped inference:
each scene's crop and its mirror image, averaged; the network's single pass is printed beside them.
With the card's silhouette_fit (fullbody/silhouette_fit.py) the object is then fitted to the scene's
object mask, as the reconstructor does; the figures without the fit are printed beside them.

Accuracy (metrics.md, hoi_perception.metrics): one similarity Procrustes on human + object
vertices concatenated, 6,000 surface samples per mesh, CD in cm; contact = body vertices
within 5 cm of the object, precision/recall of the predicted set (probability > 0.5) on the
full anny mesh, averaged over scenes; beside them per-scene contact F1 and the threshold-free
average precision of the contact probabilities (metrics.contact_average_precision). The object
template is given (the object identity is known, as on BEHAVE, where CONTHO/CrossHOI use the
annotated object's template); every held-out object is unseen in training. Figures are on
SYNTHETIC held-out data, not BEHAVE.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from hoi_perception.body.vertex_subset import load_subset
from hoi_perception.fullbody.model import CrossHOI, ModelConfig
from hoi_perception.fullbody.reconstructor import load_weights
from hoi_perception.fullbody.training.data import load_scenes, view_masks, visible_in_view
from hoi_perception.metrics import (
    contact_average_precision,
    contact_precision_recall,
    f1_score,
    hoi_chamfer,
    paired_difference_by_name,
    similarity_transform,
)
from hoi_perception.paths import REPO_ROOT, models_dir

NOTE = "synthetic held-out data (unseen objects and seeds), not BEHAVE"
TRAIN_NOTE = "synthetic TRAINING-split data (objects the network was trained on), not BEHAVE"
OCCLUDED = 0.3  # object occlusion in view A above which a scene counts as occluded
# share of the true body contact vertices view A does not see, above which a scene's contacts count as hidden:
# what the generated second view is meant to fill in (the paper's premise)
CONTACTS_HIDDEN = 0.9


def data_note(root) -> str:
    """What the figures are on, from the set's manifest: held-out objects, or the training split."""
    from hoi_perception.synth.shards import read_manifest

    return NOTE if read_manifest(root).get("params", {}).get("split") == "heldout" else TRAIN_NOTE


def gt_meshes(root, indices):
    """Full anny meshes (camera A frame) of the ground-truth parameters, object meshes, contacts, masks."""
    from hoi_perception.body import BodyParams
    from hoi_perception.synth.engine import body_model, decode_png, object_library
    from hoi_perception.synth.shards import ShardSet

    shards, lib, bm = ShardSet(root), object_library(), body_model()
    out = []
    for i in indices:
        a, meta, _ = shards.get(int(i))
        with torch.no_grad():
            v = bm(BodyParams(shape=torch.as_tensor(a["body_shape"])[None], pose=torch.as_tensor(a["body_pose"])[None],
                              global_orient=torch.as_tensor(a["body_global_orient"])[None],
                              transl=torch.as_tensor(a["body_transl"])[None])).vertices[0].numpy()
        w2c = a["world_to_cam"][0].astype(np.float64)
        asset = lib.get(meta["object_id"])
        cam_obj = w2c @ a["object_pose"].astype(np.float64)
        ov = float(a["object_scale"]) * asset.vertices.astype(np.float64) @ cam_obj[:3, :3].T + cam_obj[:3, 3]
        contact = np.unpackbits(a["body_contact_bits"])[: len(v)].astype(bool)
        human_mask, object_mask = view_masks(decode_png(a["instance_0"]))
        body = v @ w2c[:3, :3].T + w2c[:3, 3]
        seen = visible_in_view(body[contact], a["K"][0], decode_png(a["depth_0"]) / 1000.0, human_mask)
        out.append({"body": body, "object": ov, "object_faces": asset.faces,
                    "contacts_hidden": float(1.0 - seen.mean()) if contact.any() else float("nan"),
                    "object_full": asset.vertices.astype(np.float64), "template": asset.subset_vertices.astype(np.float64),
                    "contact": contact, "object_id": meta["object_id"], "occlusion": float(a["occlusion_object"][0]),
                    # view A's masks and intrinsics, for the object fit (silhouette_fit)
                    "human_mask": human_mask, "object_mask": object_mask, "k": a["K"][0].astype(np.float64)})
    return out


def predict(model: CrossHOI, data: dict, flip: bool = False, bs: int = 16) -> tuple[dict, dict | None]:
    """Full-mesh body, body contact and object vertices per scene (numpy), as the reconstructor gives
    them: the network's single pass, and with ``flip`` also its average with the pass on the mirrored
    crop (fullbody.flip; None without), from one run over the scenes."""
    from hoi_perception.fullbody.flip import MERGE_INPUTS, flip_inputs, full_body, merge_flipped

    subset = load_subset("body")
    model.eval()
    keep = ("body_vertices_full", "body_contact_full", "object_vertices", "body_init_full", "object_vertices_init",
            "joints", "hand_joints", "contact")

    def one_pass(image, k, template):
        o = model(torch.as_tensor(image), torch.as_tensor(k), template)
        return {n: o[n].numpy() for n in MERGE_INPUTS + ("body_vertices_init", "object_vertices_init")}

    ones, merges = [], []
    with torch.no_grad():
        for s in range(0, len(data["index"]), bs):
            sl = slice(s, s + bs)
            image, k = data["image_0"][sl].float().numpy(), data["intrinsics_0"][sl].numpy()
            o = one_pass(image, k, data["template"][sl])
            o["body_init_full"] = full_body({"body_vertices": o["body_vertices_init"], "contact": o["contact"]}, subset)[0]
            if flip:
                merges.append(merge_flipped(o, one_pass(*flip_inputs(image, k), data["template"][sl]), subset))
            o["body_vertices_full"], o["body_contact_full"] = full_body(o, subset)
            ones.append(o)

    def cat(parts):
        return {n: np.concatenate([o[n] for o in parts]) for n in keep}

    return cat(ones), (cat(merges) if flip else None)


def fit_to_masks(pred: dict, gts: list) -> dict:
    """`pred` with each object moved onto its scene's object mask (silhouette_fit), as the
    reconstructor does with the card's silhouette_fit."""
    from hoi_perception.fullbody.silhouette_fit import fit_object_pose

    out = dict(pred, object_vertices=pred["object_vertices"].copy())
    for i, g in enumerate(gts):
        pose = similarity_transform(g["template"], pred["object_vertices"][i])
        _, fit = fit_object_pose(pose, g["object_full"], g["object_faces"], pred["body_vertices_full"][i],
                                 g["object_mask"], g["human_mask"], g["k"])
        out["object_vertices"][i] = pred["object_vertices"][i] @ fit.transform[:3, :3].T + fit.transform[:3, 3]
    return out


def fit_sensitivity(pred: dict, fitted: dict, gts: list, trials: int, nudge_m: float = 1e-6) -> dict:
    """How far the fitted object (`fitted`: fit_to_masks(pred, gts)) moves when the network's object
    is nudged by ``nudge_m`` (Gaussian per vertex, `trials` seeds): the scale of backend-to-backend
    differences (CPU vs GPU, torch vs ORT differ by ~1e-6 m before the fit). Max vertex motion per
    scene and trial, cm."""
    fitted = fitted["object_vertices"]
    moved = []
    for seed in range(trials):
        noise = np.random.default_rng(1000 + seed).normal(0.0, nudge_m, pred["object_vertices"].shape)
        nudged = fit_to_masks(dict(pred, object_vertices=pred["object_vertices"] + noise), gts)["object_vertices"]
        moved.append(100.0 * np.abs(nudged - fitted).max(axis=(1, 2)))
    m = np.concatenate(moved)
    return {"nudge_m": nudge_m, "trials": int(len(m)), "over_1mm": int((m > 0.1).sum()), "over_1cm": int((m > 1.0).sum()),
            "median_cm": float(np.median(m)), "max_cm": float(m.max())}


def generator_quality(model: CrossHOI, data: dict, bs: int = 16) -> dict:
    """Cosine similarity and MSE between generated and real view-B features (paper: cos 0.784)."""
    cos, mse = [], []
    with torch.no_grad():
        for s in range(0, len(data["index"]), bs):
            sl = slice(s, s + bs)
            fa = model.backbone(data["image_0"][sl].float())
            fb = model.backbone(data["image_1"][sl].float())
            gen = model.generator(fa, data["intrinsics_0"][sl])
            cos.append(torch.nn.functional.cosine_similarity(gen, fb, dim=1).mean(dim=(1, 2)))
            mse.append(((gen - fb) ** 2).mean(dim=(1, 2, 3)))
    return {"cosine": float(torch.cat(cos).mean()), "mse": float(torch.cat(mse).mean())}


def evaluate(pred: dict, gts: list, faces: np.ndarray, init: bool = False) -> tuple[dict, np.ndarray]:
    """Mean metrics (all and occluded scenes) and the per-scene rows (CD_human, CD_object, P, R, occlusion,
    contact F1, contact AP, share of the true contacts hidden in view A)."""
    key_b, key_o = ("body_init_full", "object_vertices_init") if init else ("body_vertices_full", "object_vertices")
    rows = []
    for i, g in enumerate(gts):
        s, r, t = similarity_transform(g["template"], pred[key_o][i])
        obj = s * g["object_full"] @ r.T + t
        cd = hoi_chamfer(pred[key_b][i], obj, g["body"], g["object"], faces, g["object_faces"])
        p, rc = contact_precision_recall(pred["body_contact_full"][i] > 0.5, g["contact"])
        ap = contact_average_precision(pred["body_contact_full"][i], g["contact"])
        rows.append((cd["cd_human_cm"], cd["cd_object_cm"], p, rc, g["occlusion"], f1_score(p, rc), ap,
                     g.get("contacts_hidden", float("nan"))))
    a = np.array(rows)
    occl = a[:, 4] > OCCLUDED
    res = {"cd_human_cm": float(a[:, 0].mean()), "cd_object_cm": float(a[:, 1].mean()),
           "contact_precision": float(a[:, 2].mean()), "contact_recall": float(a[:, 3].mean()), "n": len(a),
           "n_occluded": int(occl.sum())}
    if len(a) > 1:  # scene-sampling uncertainty of the means themselves (not of a paired difference)
        res["sem"] = dict(zip(METRICS, (float(x) for x in a[:, :4].std(axis=0, ddof=1) / np.sqrt(len(a)))))
    if occl.any():
        res["occluded"] = {"cd_human_cm": float(a[occl, 0].mean()), "cd_object_cm": float(a[occl, 1].mean()),
                           "contact_precision": float(a[occl, 2].mean()), "contact_recall": float(a[occl, 3].mean())}
    # one-figure contact summaries: F1 at 0.5 and the threshold-free average precision (scenes with contact)
    res["contact_f1"] = float(a[:, 5].mean())
    res["contact_ap"] = float(np.nanmean(a[:, 6])) if np.isfinite(a[:, 6]).any() else float("nan")
    res["n_with_contact"] = int(np.isfinite(a[:, 6]).sum())
    return res, a


METRICS = ("cd_human_cm", "cd_object_cm", "contact_precision", "contact_recall")


def paired_by_scene(rows_a: np.ndarray, rows_b: np.ndarray) -> dict:
    """Per-scene a - b of each metric (metrics.paired_difference), on all and the occluded scenes: cross -
    single, or a model - a baseline model.

    One seed per network: the standard error is the scene-sampling uncertainty only, not the spread between seeds."""
    out = {}
    for subset, sel in (("all", np.ones(len(rows_a), bool)), ("occluded", rows_a[:, 4] > OCCLUDED)):
        if sel.sum() < 2:
            continue
        out[subset] = paired_difference_by_name(rows_a[sel, :4], rows_b[sel, :4], METRICS)
    return out


def paired_contact_summary(rows_a: np.ndarray, rows_b: np.ndarray) -> dict:
    """Per-scene a - b of contact F1 and average precision, on all scenes with a true contact (AP is
    undefined without one), the occluded ones and those whose contacts view A barely sees."""
    out = {}
    has = np.isfinite(rows_a[:, 6]) & np.isfinite(rows_b[:, 6])
    hidden = has & (np.nan_to_num(rows_a[:, 7]) > CONTACTS_HIDDEN)
    for subset, sel in (("all", has), ("occluded", has & (rows_a[:, 4] > OCCLUDED)), ("contacts hidden", hidden)):
        if sel.sum() >= 2:
            out[subset] = paired_difference_by_name(rows_a[sel][:, 5:7], rows_b[sel][:, 5:7], ("contact_f1", "contact_ap"))
    return out


def load_net(path: Path, cfg: dict) -> CrossHOI:
    m = CrossHOI(ModelConfig(**cfg))
    load_weights(m, path)
    return m.eval()


def latency(model_dir: Path, root, repeats: int) -> dict:
    from hoi_perception.pipeline.stages import load_reconstructor
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame
    from hoi_perception.synth.engine import decode_png
    from hoi_perception.synth.shards import ShardSet

    a, meta, _ = ShardSet(root).get(0)
    rgb = decode_png(a["rgb_0"])
    human, obj = view_masks(decode_png(a["instance_0"]))
    h, w = rgb.shape[:2]
    frame = Frame(image=rgb, stamp_ns=0, frame_id="cam", intrinsics=CameraIntrinsics.from_k(a["K"][0].reshape(-1), w, h),
                  masks=np.stack([human, obj]))
    res = {}
    for backend in ("torch", "onnxruntime"):
        recon = load_reconstructor(str(model_dir), "fullbody", backend=backend, object_class=meta["object_id"], threads=1)
        for _ in range(3):
            recon.reconstruct(frame)
        t_all, t_net = [], []
        feeds = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            recon.reconstruct(frame)
            t_all.append(time.perf_counter() - t0)
        from hoi_perception.fullbody.preprocess import make_crop

        c = make_crop(rgb, human, obj, a["K"][0], recon.cfg.crop)
        feeds = {"image": c.image[None], "intrinsics": c.intrinsics[None],
                 "template": recon.infer.template(meta["object_id"])[None]}
        for _ in range(repeats):
            t0 = time.perf_counter()
            recon.infer.backend.run(feeds)
            t_net.append(time.perf_counter() - t0)
        res[backend] = {"end_to_end_ms": 1e3 * float(np.median(t_all)), "network_ms": 1e3 * float(np.median(t_net))}
        if recon.infer.flip_average:  # what the shipped inference runs: the crop and its mirror image in one batch
            pair = {k: np.concatenate([v, v]) for k, v in feeds.items()}
            t_pair = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                recon.infer.backend.run(pair)
                t_pair.append(time.perf_counter() - t0)
            res[backend]["network_batch2_ms"] = 1e3 * float(np.median(t_pair))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO_ROOT / "data" / "fullbody_heldout"))
    ap.add_argument("--model", default=str(models_dir() / "fullbody"))
    ap.add_argument("--max-items", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--baseline", help="another model folder: its cross-view network on the same scenes, per-scene "
                                       "differences (model - baseline) with standard errors")
    ap.add_argument("--fit-trials", type=int, default=3,
                    help="nudged re-fits per scene for the fit's sensitivity (cross-view; 0: skip)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    import yaml

    model_dir = Path(args.model)
    note = data_note(args.data)
    card = yaml.safe_load((model_dir / "model_card.yaml").read_text())
    data = load_scenes(args.data, card["config"]["crop"], max_items=args.max_items, with_view_b=True)
    n = len(data["index"])
    gts = gt_meshes(args.data, data["index"].tolist())  # scenes the network cannot take are left out
    from hoi_perception.synth.engine import body_model

    faces = body_model().faces.numpy()
    cross = load_net(model_dir / card["weights_torch"], card["config"])
    # cards before release 7 have no baseline_config: the baseline was the cross-view config without the view
    single_cfg = card.get("baseline_config") or dict(card["config"], cross_view=False)
    single = load_net(model_dir / card["baseline_weights_torch"], single_cfg)
    results = {"data": str(args.data), "note": note, "scenes": n, "skipped": data["meta"]["skipped"],
               "manifest_sha256": data["meta"]["manifest_sha256"]}
    rows = {}
    # as the card ships it: with flip averaging, the network's own single pass is reported beside it
    flip = bool(card.get("flip_average", False))
    results["flip_average"] = flip
    fit = bool(card.get("silhouette_fit", False))
    results["silhouette_fit"] = fit
    for name, net in (("cross_view", cross), ("single_view", single)):
        one, merged = predict(net, data, flip=flip)
        results[name + "_initial"], _ = evaluate(one, gts, faces, init=True)
        shipped = merged if flip else one
        fitted = fit_to_masks(shipped, gts) if fit else shipped
        results[name], rows[name] = evaluate(fitted, gts, faces)
        if fit:
            results[name + "_no_fit"], rows[name + "_no_fit"] = evaluate(shipped, gts, faces)
            if name == "cross_view" and args.fit_trials > 0:
                results["fit_sensitivity"] = fit_sensitivity(shipped, fitted, gts, args.fit_trials)
        if flip:  # the network's single pass, neither averaged nor fitted
            results[name + "_one_pass"], rows[name + "_one_pass"] = evaluate(one, gts, faces)
    results["cross_minus_single"] = paired_by_scene(rows["cross_view"], rows["single_view"])
    results["cross_minus_single_contact"] = paired_contact_summary(rows["cross_view"], rows["single_view"])
    if fit:
        results["fit_minus_no_fit"] = {n: paired_by_scene(rows[n], rows[n + "_no_fit"])
                                       for n in ("cross_view", "single_view")}
    if flip:
        results["flip_minus_one_pass"] = {n: paired_by_scene(rows[n + "_no_fit" if fit else n], rows[n + "_one_pass"])
                                          for n in ("cross_view", "single_view")}
    if args.baseline:
        base_dir = Path(args.baseline)
        base_card = yaml.safe_load((base_dir / "model_card.yaml").read_text())
        if base_card["config"]["crop"] != card["config"]["crop"]:
            raise SystemExit(f"--baseline {base_dir} crops {base_card['config']['crop']} px, the model "
                             f"{card['config']['crop']} px: not comparable on the same crops")
        base = load_net(base_dir / base_card["weights_torch"], base_card["config"])
        base_one, base_merged = predict(base, data, flip=bool(base_card.get("flip_average", False)))
        base_pred = base_one if base_merged is None else base_merged
        if base_card.get("silhouette_fit", False):
            base_pred = fit_to_masks(base_pred, gts)
        _, base_rows = evaluate(base_pred, gts, faces)
        results["minus_baseline"] = dict(paired_by_scene(rows["cross_view"], base_rows), baseline=str(base_dir))
    hid = rows["cross_view"][:, 7]
    if np.isfinite(hid).any():
        results["contacts_hidden"] = {"median_share": float(np.nanmedian(hid)), "threshold": CONTACTS_HIDDEN,
                                      "scenes": int((np.nan_to_num(hid) > CONTACTS_HIDDEN).sum())}
    results["generator_heldout"] = generator_quality(cross, data)
    if not args.no_latency:
        # other work on the cores slows the timing: report the load it ran under instead of assuming one
        results["latency_load_avg_1min"] = round(os.getloadavg()[0], 2)
        results["latency_ms_batch1_cpu"] = latency(model_dir, args.data, args.repeats)
    print(f"Full-body HOI on {n} scenes of {args.data} -- {note}")
    print(f"{'model':22s} {'CD_human cm':>12s} {'CD_object cm':>13s} {'contact P':>10s} {'contact R':>10s}")
    shown = (["cross_view", "single_view"] + (["cross_view_no_fit", "single_view_no_fit"] if fit else [])
             + (["cross_view_one_pass", "single_view_one_pass"] if flip else []))
    for name in shown + ["cross_view_initial", "single_view_initial"]:
        r = results[name]
        print(f"{name:22s} {r['cd_human_cm']:12.2f} {r['cd_object_cm']:13.2f} {r['contact_precision']:10.3f} "
              f"{r['contact_recall']:10.3f}   ({note})")
    for name in ("cross_view", "single_view"):
        if "occluded" in results[name]:
            r = results[name]["occluded"]
            print(f"{name + f' occl>{OCCLUDED}':22s} {r['cd_human_cm']:12.2f} {r['cd_object_cm']:13.2f} "
                  f"{r['contact_precision']:10.3f} {r['contact_recall']:10.3f}   "
                  f"({results[name]['n_occluded']} scenes, {note})")
    if "sem" in results["cross_view"]:
        print("standard errors of the cross_view means over scenes: " + " / ".join(
            f"{results['cross_view']['sem'][m]:.3f}" for m in METRICS))
    if flip or fit:
        print("cross_view / single_view: as shipped" + (", averaged with the pass on the mirrored crop (card "
              "flip_average)" if flip else "") + (", object fitted to its mask (card silhouette_fit); *_no_fit: "
              "without that fit" if fit else "") + ("; *_one_pass: the network's single pass" if flip else "")
              + "; *_initial: its initial regression, before refinement")
    paired_rows = [("cross - single", results["cross_minus_single"])]
    if fit:
        paired_rows += [(f"{n.split('_')[0]} fit - no fit", results["fit_minus_no_fit"][n])
                        for n in ("cross_view", "single_view")]
    if flip:
        paired_rows += [(f"{n.split('_')[0]} flip - one pass", results["flip_minus_one_pass"][n])
                        for n in ("cross_view", "single_view")]
    if "minus_baseline" in results:
        paired_rows.append(("model - baseline", {k: v for k, v in results["minus_baseline"].items() if k != "baseline"}))
        print(f"baseline (cross-view): {results['minus_baseline']['baseline']}")
    for label, diffs in paired_rows:
        for subset, d in diffs.items():
            print(f"{label + ', ' + subset:22s} " + " ".join(
                f"{d[m]['mean']:+{w}.3f}" for m, w in zip(METRICS, (12, 13, 10, 10)))
                  + "   (per-scene mean; standard errors " + " / ".join(f"{d[m]['sem']:.3f}" for m in METRICS)
                  + f"; {d['n']} scenes, one seed per network)")
    for name in ("cross_view", "single_view"):
        r = results[name]
        print(f"{name:22s} contact F1 {r['contact_f1']:.3f}, average precision {r['contact_ap']:.3f} "
              f"({r['n_with_contact']} scenes with contact)")
    if "contacts_hidden" in results:
        h = results["contacts_hidden"]
        print(f"true contact vertices hidden in view A: median share {h['median_share']:.2f}; 'contacts hidden': "
              f"> {h['threshold']} of them ({h['scenes']} scenes)")
    for subset, d in results["cross_minus_single_contact"].items():
        print(f"cross - single, {subset}: contact F1 {d['contact_f1']['mean']:+.4f} ± {d['contact_f1']['sem']:.4f}, "
              f"AP {d['contact_ap']['mean']:+.4f} ± {d['contact_ap']['sem']:.4f} (per-scene mean ± standard error, "
              f"{d['n']} scenes with contact)")
    if "fit_sensitivity" in results:
        f = results["fit_sensitivity"]
        print(f"object fit, cross-view: the network's object nudged by {1e6 * f['nudge_m']:.0f} um moved the fitted one "
              f"> 1 mm in {f['over_1mm']} and > 1 cm in {f['over_1cm']} of {f['trials']} trials (median "
              f"{f['median_cm']:.4f} cm, max {f['max_cm']:.2f} cm)")
    g = results["generator_heldout"]
    print(f"generated vs real view-B features: cosine {g['cosine']:.3f}, MSE {g['mse']:.4f} ({note})")
    if "latency_ms_batch1_cpu" in results:
        for be, r in results["latency_ms_batch1_cpu"].items():
            pair = f" (batch 2, with the mirrored crop: {r['network_batch2_ms']:.1f} ms)" if "network_batch2_ms" in r else ""
            print(f"latency {be:12s}: network {r['network_ms']:.1f} ms{pair}, end to end {r['end_to_end_ms']:.1f} ms "
                  f"per frame (batch 1, 1 thread, this CPU; 1-min load average {results['latency_load_avg_1min']} "
                  f"before timing, this benchmark's own work included)")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
