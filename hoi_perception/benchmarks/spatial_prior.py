"""The spatial prior (paper 002) in the full-body pipeline: with and without it, per item paired.

    hoi-perception synth --kind fullbody --n 30 --seed 77 --split heldout --size 384 --out data/fullbody_heldout384
    hoi-perception synth --kind fullbody --n 60 --seed 78 --split heldout --size 384 --out data/fullbody_heldout384b
    hoi-perception bench spatial_prior --data data/fullbody_heldout384,data/fullbody_heldout384b [--real] [--json]

Synthetic part, per held-out set (objects unseen in training): the shipped full-body reconstructor
as on a camera (front end and person fit; the object mask given, or with ``--masks none`` made by
the pipeline), then the object moved along the camera's rays, the one motion its silhouette cannot
see (the contact model's anchor off: `bench contacts --placement` measures it): not at all (as before),
by the network's own body-to-fitted-body depth ratio
("network_relative"), or where the spatial prior puts it (`fitting.prior_terms.solve_ray_scale`;
``--variants`` viewports:weight[:depth sigma[:r]], r: the likelihood about the network-relative
depth instead of the published one). Per scene: CD_object (cm; hoi_chamfer, one similarity on
body + object as `bench fullbody`), the object's translation relative to the body (cm; object
centroid minus body-vertex centroid, against the truth's), its rotation error (degrees, the
template's symmetries taken into account; the prior does not turn the object) and the seconds of
the prior's solve. Objects the prior cannot score keep their depth (counted, with the reasons).
Differences are per scene (variant minus none), mean and standard error.

Real part (``--real``): the 12 BEHAVE/COCO photos through the full-body reconstructor, object mask
given, person from the front end, with and without the prior: the placed object's IoU with its mask
(unchanged by construction: the prior only moves the object along the rays) and ``--sheets`` front
and side views of both (dataset images: keep them out of the repository).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from hoi_perception.metrics import hoi_chamfer, paired_difference_by_name, similarity_transform
from hoi_perception.paths import models_dir

METRICS = ("cd_object_cm", "translation_cm", "rotation_deg", "seconds")


def _rotation_error_deg(r_pred: np.ndarray, r_true: np.ndarray, symmetries: np.ndarray) -> float:
    best = np.inf
    for s in symmetries:
        c = (np.trace(r_pred.T @ r_true @ s) - 1.0) / 2.0
        best = min(best, float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))))
    return best


def _variant(text: str) -> dict:
    """viewports:weight[:depth sigma[:r|-[:contact weight]]]; r: the likelihood sits at the network's
    relative depth"""
    parts = text.split(":")
    sigma = float(parts[2]) if len(parts) > 2 else 0.1
    relative = len(parts) > 3 and parts[3] == "r"
    contact = float(parts[4]) if len(parts) > 4 else 0.0
    return {"viewports": int(parts[0]), "weight": float(parts[1]), "depth_sigma": sigma, "relative": relative,
            "contact_weight": contact, "name": f"prior_v{parts[0]}_w{parts[1]}_s{sigma:g}"
            + ("_rel" if relative else "") + (f"_c{contact:g}" if contact else "")}


def _pose_of(asset, vertices: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    return similarity_transform(asset.vertices.astype(np.float64), np.asarray(vertices, np.float64))


def relative_depth(fitted_joints: np.ndarray, network_joints: np.ndarray) -> float:
    """The factor along the camera's rays that takes the network's body to where the person fit put it
    (pelvis distances from the camera): the network's object moved by it keeps its place at the body."""
    return float(np.linalg.norm(fitted_joints[0]) / max(np.linalg.norm(network_joints[0]), 1e-6))


def synthetic_part(root: str, prior, variants: list[dict], max_items: int | None, masks: str = "object",
                   cache: Path | None = None) -> dict:
    """The shipped full-body reconstructor (front end, person fit, object fitted to its mask) on each
    scene's view A; the object then moved along the camera's rays per variant (`solve_ray_scale` is
    the pipeline's last step, so the variants are applied to one run's result). ``cache``: a folder
    keeping each scene's reconstruction, so another set of variants does not run the pipeline again."""
    from hoi_perception.assets import object_library
    from hoi_perception.fitting.prior_terms import PriorEvidence, contact_candidates, solve_ray_scale
    from hoi_perception.fullbody.training.data import view_masks
    from hoi_perception.geometry import sample_surface
    from hoi_perception.pipeline.stages import load_reconstructor
    from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError
    from hoi_perception.synth.engine import body_model, decode_png
    from hoi_perception.synth.shards import ShardSet

    from .fullbody import gt_meshes
    from .real import _object_mesh

    shards, lib, faces = ShardSet(root), object_library(), body_model().faces.numpy()
    n = len(shards) if max_items is None else min(max_items, len(shards))
    gts = gt_meshes(root, range(n))
    names = ["no_prior", "network_relative"] + [v["name"] for v in variants]
    rows: dict[str, list] = {m: [] for m in names}
    off: dict[str, int] = {}
    missed, recons, n_contact = [], {}, 0
    for i, g in enumerate(gts):
        a, meta, _ = shards.get(i)
        rgb = decode_png(a["rgb_0"])
        human_mask, obj_mask = view_masks(decode_png(a["instance_0"]))
        h, w = rgb.shape[:2]
        k = CameraIntrinsics.from_k(a["K"][0].reshape(-1), w, h)
        oid = meta["object_id"]
        asset = lib.get(oid)
        cached = None if cache is None else cache / f"{Path(root).name}_{masks}_{i:04d}.npz"
        if cached is not None and cached.is_file():
            z = np.load(cached)
            if "missed" in z.files:
                missed.append(str(z["missed"]))
                continue
            joints, body_vertices, posed, network_joints = z["joints"], z["body_vertices"], z["object"], z["network"]
            if masks == "none":  # the mask the pipeline made is the contact term's evidence, not the true one
                obj_mask = np.unpackbits(z["made_mask"])[: h * w].reshape(h, w).astype(bool)
        else:
            if oid not in recons:
                recons[oid] = load_reconstructor("fullbody", "fullbody", object_class=oid, frontend_mode="image",
                                                 spatial_prior=False, contact_model=False,
                                                 object_masks="given" if masks == "object" else "auto")
            recon = recons[oid]
            try:
                res = recon.reconstruct(Frame(rgb, 0, "camera", k, masks=obj_mask[None] if masks == "object" else None))
            except InputError as exc:
                missed.append(f"scene {i}: {exc}")
                if cached is not None:
                    np.savez(cached, missed=missed[-1])
                continue
            joints = np.asarray(res.bodies[0].joints[:22], np.float64)
            body_vertices = np.asarray(res.bodies[0].vertices, np.float64)
            posed, _ = _object_mesh(res)
            network_joints = recon.last_network_joints
            if masks == "none":
                obj_mask = recon.last_object_mask.mask
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cached, joints=joints, body_vertices=body_vertices, object=posed, network=network_joints,
                         made_mask=np.packbits(obj_mask))
        s, r, t = _pose_of(asset, posed)
        f_net = relative_depth(joints, network_joints)
        _, true_r, _ = _pose_of(asset, g["object"])
        for name in names:
            f, secs = 1.0, 0.0
            if name == "network_relative":
                f = f_net
            elif name != "no_prior":
                v = next(x for x in variants if x["name"] == name)
                ev = PriorEvidence(prior, joints, s * asset.keypoints.astype(np.float64) @ r.T + t, oid,
                                   asset.extents, weight=v["weight"], viewports=v["viewports"],
                                   depth_sigma=v["depth_sigma"], contact_weight=v["contact_weight"])
                reason = ev.unavailable()
                if reason:
                    off[reason] = off.get(reason, 0) + (name == names[2])
                else:
                    t1 = time.perf_counter()
                    contact = None
                    if ev.contact_weight > 0:
                        surface = sample_surface(s * asset.vertices.astype(np.float64) @ r.T + t, asset.faces, 1000)
                        contact, _ = contact_candidates(ev, body_vertices, surface, obj_mask, human_mask, k.matrix)
                        n_contact += contact is not None
                    f, _ = solve_ray_scale(ev, centre=f_net if v.get("relative") else 1.0, contact=contact)
                    secs = time.perf_counter() - t1
            obj = (f * s) * asset.vertices.astype(np.float64) @ r.T + f * t
            cd = hoi_chamfer(body_vertices, obj, g["body"], g["object"], faces, g["object_faces"])
            rel = (obj.mean(0) - body_vertices.mean(0)) - (g["object"].mean(0) - g["body"].mean(0))
            rows[name].append([cd["cd_object_cm"], 100 * float(np.linalg.norm(rel)),
                               _rotation_error_deg(r, true_r, asset.symmetry_rotations), secs])
        print(f"scene {i}: CD_object {rows['no_prior'][-1][0]:.1f} cm, network-relative "
              f"{rows['network_relative'][-1][0]:.1f}, " + ", ".join(
                  f"{n} {rows[n][-1][0]:.1f}" for n in names[2:]), flush=True)
    arrays = {n: np.array(rows[n]) for n in names}
    out = {"data": root, "scenes": n, "reconstructed": len(arrays["no_prior"]), "missed": missed, "prior_off": off,
           "solves_with_contact_candidates": n_contact,
           "masks": masks, "means": {n: dict(zip(METRICS, a.mean(0).tolist())) for n, a in arrays.items()},
           "minus_no_prior": {n: paired_difference_by_name(arrays[n], arrays["no_prior"], METRICS) for n in names[1:]},
           "items": {n: a.tolist() for n, a in arrays.items()}}
    for n in names[1:]:
        d = out["minus_no_prior"][n]
        print(f"{Path(root).name}: {n} - no prior over {d['n']} scenes: " + ", ".join(
            f"{m} {d[m]['mean']:+.3f} ± {d[m]['sem']:.3f}" for m in METRICS), flush=True)
    print(f"{Path(root).name}: means " + json.dumps({n: {m: round(v, 3) for m, v in r.items()}
                                                   for n, r in out["means"].items()}))
    if off:
        print(f"{Path(root).name}: prior off in " + "; ".join(f"{k} ({v} scenes)" for k, v in off.items()))
    return out


def real_part(sheets: Path | None, variant: dict) -> dict:
    import cv2

    from hoi_perception.assets import body_model
    from hoi_perception.fullbody.training.real_images import rasterize, side_view
    from hoi_perception.metrics import mask_iou
    from hoi_perception.pipeline.stages import load_reconstructor
    from hoi_perception.pipeline.types import Frame
    from hoi_perception.raster import pinhole_project

    from .real import _object_mesh, real_photos

    faces = body_model().faces.numpy()
    recons, rows = {}, []
    for it, bgr, _, om, k, template in real_photos():
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        h, w = rgb.shape[:2]
        row, panels = {"id": it["id"], "template": template}, []
        for name, on in (("no_prior", False), ("prior", True)):
            key = (name, template)
            if key not in recons:
                recons[key] = load_reconstructor("fullbody", "fullbody", object_class=template, frontend_mode="image",
                                                 spatial_prior=on, contact_model=False)
                recons[key].infer.prior_weight = variant["weight"]
                recons[key].infer.prior_viewports = variant["viewports"]
                recons[key].infer.prior_contact = variant["contact_weight"]
            t0 = time.perf_counter()
            res = recons[key].reconstruct(Frame(rgb, 0, "camera", k, masks=om[None]))
            row[f"{name}_seconds"] = time.perf_counter() - t0
            ov, of = _object_mesh(res)
            row[f"{name}_object_iou"] = mask_iou(rasterize(pinhole_project(ov, k.matrix, 1e-3), of, (h, w)), om)
            row[f"{name}_class"] = res.objects[0].class_name
            if sheets is not None:
                body = res.bodies[0].vertices
                img = bgr.copy()
                sil_o = rasterize(pinhole_project(ov, k.matrix, 1e-3), of, (h, w))
                sil_b = rasterize(pinhole_project(body, k.matrix, 1e-3), faces, (h, w))
                img[sil_b] = (0.5 * img[sil_b] + [0, 110, 0]).astype(np.uint8)
                img[sil_o] = (0.5 * img[sil_o] + [0, 0, 120]).astype(np.uint8)
                front = cv2.resize(img, (int(512 * w / h), 512))
                cv2.putText(front, name, (10, 30), 0, 1.0, (255, 255, 255), 2)
                panels += [front, side_view(body, ov, faces, of)]
        if sheets is not None:
            sheets.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(sheets / f"prior_{it['id']}.png"), np.concatenate(panels, 1))
        rows.append(row)
        print(f"{row['id']}: object IoU {row['no_prior_object_iou']:.3f} -> {row['prior_object_iou']:.3f} with the "
              f"prior ({row['prior_class']}); {row['prior_seconds'] - row['no_prior_seconds']:+.2f} s", flush=True)
    a = np.array([[r["prior_object_iou"], r["prior_seconds"]] for r in rows])
    b = np.array([[r["no_prior_object_iou"], r["no_prior_seconds"]] for r in rows])
    out = {"items": rows, "prior_minus_no_prior": paired_difference_by_name(a, b, ("object_iou", "seconds"))}
    d = out["prior_minus_no_prior"]
    print(f"real photos: object IoU {b[:, 0].mean():.3f} -> {a[:, 0].mean():.3f}, paired {d['object_iou']['mean']:+.4f} "
          f"± {d['object_iou']['sem']:.4f} ({d['n']} photos)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/fullbody_heldout384,data/fullbody_heldout384b",
                    help="held-out full-body shard folders (384 px: the front end needs people that large)")
    ap.add_argument("--masks", choices=("object", "none"), default="object",
                    help="synthetic: the object mask given (default) or no mask (the pipeline makes one)")
    ap.add_argument("--prior", default=str(models_dir() / "spatialprior"))
    ap.add_argument("--variants", default="8:2:0.1:-:5,8:2:0.1,8:0:0.1:-:5,4:2:0.1:-:5,16:2:0.1:-:5",
                    help="viewports:weight[:depth sigma[:r|-[:contact weight]]], comma-separated; the first is "
                         "the shipped setting, the others ablations (no contact term, contact alone, viewports)")
    ap.add_argument("--max-items", type=int, default=None)
    ap.add_argument("--real", action="store_true", help="also the 12 real photos (the first variant)")
    ap.add_argument("--no-synthetic", action="store_true")
    ap.add_argument("--sheets", default=None)
    ap.add_argument("--cache", default=None, help="synthetic: keep each scene's reconstruction here (re-runs "
                    "with other variants skip the pipeline)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from hoi_perception.spatialprior.prior import SpatialPrior

    prior = SpatialPrior.load(Path(args.prior))
    variants = [_variant(v) for v in args.variants.split(",")]
    out = {"prior": args.prior, "variants": variants}
    if not args.no_synthetic:
        cache = Path(args.cache) if args.cache else None
        out["synthetic"] = [synthetic_part(root, prior, variants, args.max_items, args.masks, cache)
                            for root in args.data.split(",")]
    if args.real:
        out["real"] = real_part(Path(args.sheets) if args.sheets else None, variants[0])
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
