"""The contact model (`models/contacts`, render-localize-lift) against the full-body network's contact head.

    hoi-perception bench contacts --data data/fb_heldout384,data/fb_heldout384b [--json]

On held-out full-body scenes (objects never seen in training): both models see view A's crop with the true
person and object masks, as in `bench fullbody`. The contact model gets the body and object the full-body
network predicts (what the pipeline has without a person fit) and the object's kind. The head's contacts are the shipped inference's (flip-averaged where the card says so);
both are scored at 0.5 (the contact model's scores are recentred so that 0.5 is the threshold its release
chose on its training validation split).

Per scene on anny's full mesh (DAMON definitions, `metrics.damon_contact_scores`): F1, precision, recall,
the false positives' geodesic distance to the true contact (cm, along the rest mesh's edges), the
threshold-free average precision; F1 per body part (`contacts/parts.py`) over the scenes where that part
touches; object contact F1 on the template's 64 subset vertices. Paired per scene: contact model - head,
mean ± standard error. `--ablate-kind` adds the contact model run class-agnostic (the kind withheld).

``--placement``: the shipped full-body reconstructor as on a camera (front end, person fit, the object's
mask given) with the contact model off (the head's contacts) and on (its contacts published and anchoring
the object's depth, `fitting.contact_terms`): per scene CD_object (cm, `metrics.hoi_chamfer`) and the
published contacts' F1 on the fitted body, paired. ``--real``: the 12 BEHAVE/COCO photos the same two
ways; ``--sheets DIR`` writes per photo the published contacts over the image (red: body, blue: object),
the side view, and the contact model's scores painted on its star-pose canvas (dataset images: keep
the sheets out of the repository).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import yaml

from hoi_perception.metrics import (
    contact_average_precision,
    damon_contact_scores,
    geodesic_fp_error,
    mesh_edge_graph,
    paired_difference,
)


def gt_contacts(root, indices) -> list[dict]:
    from hoi_perception.contacts.model import N_BODY_VERTICES
    from hoi_perception.synth.shards import ShardSet

    shards = ShardSet(root)
    out = []
    for i in indices:
        a, meta, _ = shards.get(int(i))
        out.append({"body": np.unpackbits(a["body_contact_bits"])[:N_BODY_VERTICES].astype(bool),
                    "object": a["object_contact"].astype(bool), "object_id": meta["object_id"]})
    return out


def scene_row(prob: np.ndarray, gt: np.ndarray, threshold: float, graph, parts: np.ndarray, n_parts: int) -> list:
    s = damon_contact_scores(prob[None], gt[None], threshold=threshold)
    geo = 100.0 * geodesic_fp_error(prob >= threshold, gt, graph)
    part_f1 = []
    for k in range(n_parts):
        sel = parts == k
        part_f1.append(damon_contact_scores(prob[None, sel], gt[None, sel], threshold)["f1"] if gt[sel].any() else np.nan)
    return [s["f1"], s["precision"], s["recall"], geo, contact_average_precision(prob, gt), *part_f1]


def object_f1(prob: np.ndarray, gt: np.ndarray, threshold: float) -> float:
    return damon_contact_scores(prob[None], gt[None], threshold=threshold)["f1"]


def run_set(root: str, net, flip: bool, contact_model, crop: int, graph, parts, n_parts: int, ablate_kind: bool,
            max_items: int | None) -> dict:
    from hoi_perception.assets import object_library
    from hoi_perception.fullbody.model import N_BODY_V
    from hoi_perception.fullbody.training.data import load_scenes

    from .fullbody import predict

    data = load_scenes(root, crop, max_items=max_items, with_view_b=False)
    one, merged = predict(net, data, flip=flip)
    head = merged if flip else one
    gts = gt_contacts(root, data["index"].numpy())
    lib = object_library()
    rows = {"head": [], "model": [], "agnostic": []}
    obj = {"head": [], "model": []}
    seconds = []
    for i, g in enumerate(gts):
        if not g["body"].any():
            continue  # F1 has nothing to find (DAMON scores such a scene 0 for every model)
        asset = lib.get(g["object_id"])
        image, intr = data["image_0"][i].float().numpy(), data["intrinsics_0"][i].numpy()
        posed = (head["joints"][i], head["hand_joints"][i], head["body_vertices_full"][i], head["object_vertices"][i])
        t0 = time.perf_counter()
        r = contact_model.predict(image, intr, *posed, g["object_id"], asset.surface_points, asset.subset_vertices)
        seconds.append(time.perf_counter() - t0)
        rows["head"].append(scene_row(head["body_contact_full"][i], g["body"], 0.5, graph, parts, n_parts))
        rows["model"].append(scene_row(r.body, g["body"], r.threshold, graph, parts, n_parts))
        obj["head"].append(object_f1(head["contact"][i][N_BODY_V:], g["object"], 0.5))
        obj["model"].append(object_f1(r.object, g["object"], r.threshold))
        if ablate_kind:
            a = contact_model.predict(image, intr, *posed, g["object_id"], kind="none of the known kinds")
            rows["agnostic"].append(scene_row(a.body, g["body"], a.threshold, graph, parts, n_parts))
    return {"rows": {k: np.asarray(v) for k, v in rows.items() if v}, "object": {k: np.asarray(v) for k, v in obj.items()},
            "seconds": seconds, "scenes": len(gts)}


COLUMNS = ("f1", "precision", "recall", "fp_geodesic_cm", "ap")


def _finite_mean(x: np.ndarray) -> float:
    """The mean over the scenes where a figure is defined (NaN where none is: a part no scene touches)."""
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


def summarise(res: dict, part_names) -> dict:
    rows = res["rows"]
    out = {"scenes": res["scenes"], "scenes_with_contact": len(rows["head"])}
    names = list(COLUMNS) + [f"f1_{p}" for p in part_names]
    for who, r in rows.items():
        out[who] = {n: _finite_mean(r[:, c]) for c, n in enumerate(names)}
        out[who]["object_f1"] = float(res["object"][who].mean()) if who in res["object"] else None
    diff = {}
    for c, n in enumerate(names):
        both = np.isfinite(rows["model"][:, c]) & np.isfinite(rows["head"][:, c])
        if both.sum() >= 2:
            m, se = paired_difference(rows["model"][both, c], rows["head"][both, c])
            diff[n] = {"mean": float(m), "sem": float(se), "n": int(both.sum())}
    m, se = paired_difference(res["object"]["model"], res["object"]["head"])
    diff["object_f1"] = {"mean": float(m), "sem": float(se), "n": len(res["object"]["model"])}
    out["model_minus_head"] = diff
    if "agnostic" in rows:
        m, se = paired_difference(rows["model"][:, 0], rows["agnostic"][:, 0])
        out["kind_minus_agnostic_f1"] = {"mean": float(m), "sem": float(se), "n": len(rows["model"])}
    out["ms_per_frame"] = 1000.0 * float(np.mean(res["seconds"]))
    return out


def _reconstructors(oid: str | None, cache: dict):
    """The shipped reconstructor with the contact model off and on, made once (each holds a front end and
    the networks' sessions), set to the object `oid` (None: the network's class)."""
    from hoi_perception.pipeline.stages import load_reconstructor

    if not cache:
        cache.update({on: load_reconstructor("fullbody", "fullbody", frontend_mode="image", object_masks="given",
                                             contact_model=on) for on in (False, True)})
    for r in cache.values():
        if oid is not None:
            r.infer.template(oid)  # an unknown id: the error now
        r.object_class = oid
    return cache


def placement_part(root: str, max_items: int | None) -> dict:
    """Per scene: the reconstructor with the contact model off and on; CD_object and published contact F1."""
    from hoi_perception.metrics import hoi_chamfer
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError
    from hoi_perception.synth.engine import body_model, decode_png
    from hoi_perception.synth.shards import ShardSet

    from .fullbody import gt_meshes, view_masks
    from .real import _object_mesh

    shards, faces = ShardSet(root), body_model().faces.numpy()
    n = len(shards) if max_items is None else min(max_items, len(shards))
    gts, recons, rows, missed = gt_meshes(root, range(n)), {}, {False: [], True: []}, []
    for i, g in enumerate(gts):
        a, meta, _ = shards.get(i)
        rgb = decode_png(a["rgb_0"])
        _, obj_mask = view_masks(decode_png(a["instance_0"]))
        h, w = rgb.shape[:2]
        frame = Frame(rgb, 0, "camera", CameraIntrinsics.from_k(a["K"][0].reshape(-1), w, h), masks=obj_mask[None])
        try:
            out = {on: r.reconstruct(frame) for on, r in _reconstructors(meta["object_id"], recons).items()}
        except InputError as exc:
            missed.append(f"scene {i}: {exc}")
            continue
        for on, res in out.items():
            body = res.bodies[0]
            ov, _ = _object_mesh(res)
            cd = hoi_chamfer(body.vertices, ov, g["body"], g["object"], faces, g["object_faces"])["cd_object_cm"]
            f1 = damon_contact_scores(body.vertex_contact[None], g["contact"][None])["f1"] if g["contact"].any() else np.nan
            rows[on].append([cd, f1])
        print(f"scene {i}: CD_object {rows[False][-1][0]:.1f} -> {rows[True][-1][0]:.1f} cm, contact F1 "
              f"{rows[False][-1][1]:.3f} -> {rows[True][-1][1]:.3f}", flush=True)
    off, on = np.array(rows[False]), np.array(rows[True])
    out = {"scenes": n, "reconstructed": len(off), "missed": missed,
           "off": {"cd_object_cm": float(off[:, 0].mean()), "contact_f1": float(np.nanmean(off[:, 1]))},
           "on": {"cd_object_cm": float(on[:, 0].mean()), "contact_f1": float(np.nanmean(on[:, 1]))}}
    m, se = paired_difference(on[:, 0], off[:, 0])
    out["on_minus_off_cd_object_cm"] = {"mean": float(m), "sem": float(se), "n": len(on)}
    both = np.isfinite(on[:, 1])
    m, se = paired_difference(on[both, 1], off[both, 1])
    out["on_minus_off_contact_f1"] = {"mean": float(m), "sem": float(se), "n": int(both.sum())}
    return out


def real_part(sheets: Path | None, max_items: int | None = None) -> dict:
    import cv2

    from hoi_perception.assets import body_model, object_library
    from hoi_perception.contacts.canonical import body_canvas, star_body
    from hoi_perception.fullbody.training.real_images import rasterize, side_view
    from hoi_perception.metrics import mask_iou
    from hoi_perception.pipeline.types import Frame
    from hoi_perception.raster import pinhole_project

    from .real import _object_mesh, real_photos

    faces, lib, recons, rows = body_model().faces.numpy(), object_library(), {}, []
    canvas = body_canvas(*star_body()) if sheets is not None else None
    for n, (it, bgr, _, om, k, template) in enumerate(real_photos()):
        if max_items is not None and n >= max_items:
            break
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        h, w = rgb.shape[:2]
        row, panels = {"id": it["id"], "template": template}, []
        for on, recon in _reconstructors(template, recons).items():
            name = "contact model" if on else "head"
            res = recon.reconstruct(Frame(rgb, 0, "camera", k, masks=om[None]))
            body, obj = res.bodies[0], res.objects[0]
            ov, of = _object_mesh(res)
            row[f"{name}_object_iou"] = mask_iou(rasterize(pinhole_project(ov, k.matrix, 1e-3), of, (h, w)), om)
            row[f"{name}_body_contacts"] = int((body.vertex_contact >= 0.5).sum())
            row[f"{name}_object_contacts"] = int((obj.vertex_contact >= 0.5).sum())
            if sheets is None:
                continue
            img = bgr.copy()
            sil = rasterize(pinhole_project(body.vertices, k.matrix, 1e-3), faces, (h, w))
            img[sil] = (0.6 * img[sil] + [0, 70, 0]).astype(np.uint8)
            for u, v in pinhole_project(body.vertices[body.vertex_contact >= 0.5], k.matrix, 1e-3)[::3]:
                cv2.circle(img, (int(u), int(v)), 2, (0, 0, 255), -1)
            asset = lib.get(obj.template_id)
            sub = float(obj.scale[0]) * asset.subset_vertices @ obj.pose.rotation_matrix().T + obj.pose.position
            for u, v in pinhole_project(sub[obj.vertex_contact >= 0.5], k.matrix, 1e-3):
                cv2.circle(img, (int(u), int(v)), 5, (255, 80, 0), -1)
            front = cv2.resize(img, (int(512 * w / h), 512))
            cv2.putText(front, name, (10, 30), 0, 1.0, (255, 255, 255), 2)
            heat = canvas.paint(body.vertex_contact)  # (J, S, S) on the star-pose canvas
            views = [np.where(canvas.images[j, 3][..., None] > 0,
                              np.stack([255 * (1 - heat[j])] * 2 + [np.full_like(heat[j], 255)], -1) * 0.8
                              + 40 * canvas.images[j, :3].transpose(1, 2, 0), 255) for j in range(2)]
            star = cv2.resize(np.concatenate(views, 1).astype(np.uint8), (512, 256))
            panels += [front, np.concatenate([side_view(body.vertices, ov, faces, of, size=256), star[:, :256]], 0)]
        if sheets is not None:
            sheets.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(sheets / f"contacts_{it['id']}.png"), np.concatenate(panels, 1))
        rows.append(row)
        print(f"{row['id']} ({template or 'class from the network'}): object IoU {row['head_object_iou']:.3f} -> {row['contact model_object_iou']:.3f}; "
              f"body contact vertices {row['head_body_contacts']} -> {row['contact model_body_contacts']}", flush=True)
    a = np.array([r["contact model_object_iou"] for r in rows])
    b = np.array([r["head_object_iou"] for r in rows])
    m, se = paired_difference(a, b)
    return {"items": rows, "object_iou_model_minus_head": {"mean": float(m), "sem": float(se), "n": len(rows)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="held-out full-body shard folders, separated by commas")
    ap.add_argument("--model", default="models/contacts")
    ap.add_argument("--fullbody", default="models/fullbody")
    ap.add_argument("--backend", default="torch", choices=("torch", "onnxruntime"))
    ap.add_argument("--max-items", type=int, default=None)
    ap.add_argument("--ablate-kind", action="store_true")
    ap.add_argument("--placement", action="store_true", help="also the shipped reconstructor with the contact model "
                    "off and on (384 px sets: the front end needs people that large)")
    ap.add_argument("--real", action="store_true", help="also the 12 real photos, contact model off and on")
    ap.add_argument("--no-heads", action="store_true", help="skip the head comparison")
    ap.add_argument("--sheets", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    import torch

    from hoi_perception.assets import body_model
    from hoi_perception.contacts.model import ContactModel
    from hoi_perception.contacts.parts import PARTS, vertex_parts

    from .fullbody import load_net

    torch.set_num_threads(1)
    card = yaml.safe_load((Path(args.fullbody) / "model_card.yaml").read_text())
    net = load_net(Path(args.fullbody) / card["weights_torch"], card["config"])
    flip = bool(card.get("flip_average", False))
    contact_model = ContactModel(args.model, backend=args.backend)
    bm = body_model()
    rest = bm(bm.rest_params(1))
    graph = mesh_edge_graph(rest.vertices[0].detach().numpy(), rest.faces.numpy())
    parts = vertex_parts(bm)
    results = {"model": args.model, "backend": args.backend, "validation_threshold": contact_model.threshold, "sets": {}}
    for root in ([] if args.no_heads else args.data.split(",")):
        res = run_set(root, net, flip, contact_model, card["config"]["crop"], graph, parts, len(PARTS),
                      args.ablate_kind, args.max_items)
        s = results["sets"][Path(root).name] = summarise(res, PARTS)
        d = s["model_minus_head"]
        print(f"{Path(root).name}: {s['scenes_with_contact']} of {s['scenes']} scenes with contact")
        for who in ("head", "model", "agnostic"):
            if who in s:
                r = s[who]
                print(f"  {who:9s} F1 {r['f1']:.3f}  P {r['precision']:.3f}  R {r['recall']:.3f}  FP geodesic "
                      f"{r['fp_geodesic_cm']:.1f} cm  AP {r['ap']:.3f}  object F1 {r['object_f1'] or float('nan'):.3f}  "
                      + " ".join(f"{p} {r['f1_' + p]:.2f}" for p in PARTS))
        print("  model - head (per scene, mean ± standard error): "
              + ", ".join(f"{n} {d[n]['mean']:+.4f} ± {d[n]['sem']:.4f}" for n in ("f1", "precision", "recall", "ap",
                                                                                  "object_f1") if n in d))
        print("  per part F1: " + ", ".join(f"{p} {d['f1_' + p]['mean']:+.3f} ± {d['f1_' + p]['sem']:.3f} ({d['f1_' + p]['n']})"
                                            for p in PARTS if "f1_" + p in d))
        if "kind_minus_agnostic_f1" in s:
            k = s["kind_minus_agnostic_f1"]
            print(f"  with the kind - class-agnostic: F1 {k['mean']:+.4f} ± {k['sem']:.4f}")
        print(f"  contact model {s['ms_per_frame']:.1f} ms per frame ({args.backend}, 1 thread)")
    if args.placement:
        for root in args.data.split(","):
            p = results.setdefault("placement", {})[Path(root).name] = placement_part(root, args.max_items)
            d, c = p["on_minus_off_cd_object_cm"], p["on_minus_off_contact_f1"]
            print(f"{Path(root).name} placement ({p['reconstructed']} of {p['scenes']} scenes): contact model on - off: "
                  f"CD_object {d['mean']:+.2f} ± {d['sem']:.2f} cm ({p['off']['cd_object_cm']:.2f} -> "
                  f"{p['on']['cd_object_cm']:.2f}), published contact F1 {c['mean']:+.4f} ± {c['sem']:.4f}")
    if args.real:
        r = results["real"] = real_part(Path(args.sheets) if args.sheets else None, args.max_items)
        d = r["object_iou_model_minus_head"]
        print(f"real photos: object IoU contact model - head {d['mean']:+.4f} ± {d['sem']:.4f} ({d['n']} photos)")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
