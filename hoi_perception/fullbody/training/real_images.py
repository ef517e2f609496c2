"""Run the full-body model on real photographs with given masks; silhouette IoU and overlays.

    python -m hoi_perception.fullbody.training.real_images --out runs/fullbody_real \
        ../shared/data/images/hoi_noncommercial/behave_frames_contho ../shared/data/images/hoi_noncommercial/coco_hdm \
        ../shared/data/images/hoi_noncommercial/coco_chore_117377

Layouts understood: BEHAVE/CONTHO (img/, mask_h/, mask_o/, obj_name/, bbox/ with the same stem)
and CHORE/HDM-style folders (k1.color.jpg, k1.person_mask.*, k1.obj_rend_mask.* or k1.obj_mask.*).
No calibration comes with these images: the intrinsics are a field-of-view guess (--hfov-behave
for BEHAVE's Kinect colour camera, --hfov otherwise), which biases depth and scale, not the
silhouettes. BEHAVE object names are mapped to the nearest template KIND of our library when
one exists (BEHAVE_TO_TEMPLATE); otherwise the object is reported as unknown and the class head's
own guess is used and labelled as such.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.atomic_files import atomic_write_bytes
from hoi_perception.metrics import mask_iou as iou
from hoi_perception.pipeline.stages import InferenceError, load_reconstructor
from hoi_perception.pipeline.types import CameraIntrinsics, Frame, InputError
from hoi_perception.raster import fill_triangles, pinhole_project

# BEHAVE object -> nearest template of the library (same kind of shape; sizes differ, the
# network predicts the scale). None: nothing comparable in the library.
BEHAVE_TO_TEMPLATE = {
    "boxtiny": "proc_box_0_0", "boxsmall": "proc_box_0_0", "boxmedium": "proc_box_0_0", "boxlarge": "proc_box_0_0",
    "boxlong": "proc_box_0_0", "yogaball": "proc_sphere_0_0", "basketball": "proc_sphere_0_0",
    "chairblack": "proc_chair_0_0", "chairwood": "proc_chair_0_0", "stool": "proc_stool_0_0",
    "trashbin": "proc_cylinder_0_0", "tablesmall": None, "tablesquare": None, "backpack": None,
    "suitcase": "proc_box_0_0", "monitor": None, "keyboard": None, "plasticcontainer": "proc_box_0_0",
    "toolbox": "proc_box_0_0",
}


def _read_mask(path: Path) -> np.ndarray:
    m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if m is None:
        raise InputError(f"mask {path} cannot be read (missing or not an image)")
    return m > 127


def _read_image(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise InputError(f"image {path} cannot be read (missing or not an image)")
    return bgr


def _object_name(path: Path) -> str | None:
    """BEHAVE's object name of a frame; None (the class head guesses) when the file is missing or unreadable."""
    try:
        return str(json.loads(path.read_text())["obj_name"][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def find_items(root: Path) -> list[dict]:
    items = []
    if (root / "img").is_dir() and (root / "mask_h").is_dir():
        for img in sorted((root / "img").glob("*.jpg")):
            name = _object_name(root / "obj_name" / f"{img.stem}.json")
            items.append({"id": f"behave_{img.stem}", "image": img, "human": root / "mask_h" / img.name,
                          "object": root / "mask_o" / img.name, "object_name": name, "kind": "behave"})
        return items
    for color in sorted(root.rglob("k1.color.jpg")):
        d = color.parent
        obj = next((p for p in (d / "k1.obj_rend_mask.png", d / "k1.obj_mask.jpg", d / "k1.obj_mask.png") if p.is_file()), None)
        hum = next((p for p in (d / "k1.person_mask.png", d / "k1.person_mask.jpg") if p.is_file()), None)
        if obj is None or hum is None:
            continue
        items.append({"id": f"{root.name}_{d.name}" if d != root else root.name, "image": color, "human": hum,
                      "object": obj, "object_name": None, "kind": "coco"})
    return items


def rasterize(points_2d: np.ndarray, faces: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return fill_triangles(points_2d[faces], shape)


def draw_mesh(canvas: np.ndarray, pts2d: np.ndarray, depth: np.ndarray, faces: np.ndarray, colour, alpha=0.6):
    """Painter's algorithm with flat shading by face depth order (far first)."""
    tri = pts2d[faces]
    order = np.argsort(-depth[faces].mean(1))
    layer = canvas.copy()
    e1 = tri[:, 1] - tri[:, 0]
    e2 = tri[:, 2] - tri[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    for i in order:
        shade = 0.55 + 0.45 * (1.0 if area[i] > 0 else 0.6)
        cv2.fillConvexPoly(layer, np.round(tri[i]).astype(np.int32), [int(c * shade) for c in colour])
    return cv2.addWeighted(layer, alpha, canvas, 1 - alpha, 0)


def side_view(body: np.ndarray, obj: np.ndarray, faces_b, faces_o, size: int = 512) -> np.ndarray:
    """Both meshes seen from the camera's right (rotation of 90 deg about the camera y axis)."""
    allv = np.concatenate([body, obj])
    c = allv.mean(0)
    r = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # looks along -x of the camera
    tb, to = (body - c) @ r.T, (obj - c) @ r.T
    both = np.concatenate([tb, to])
    span = max(np.ptp(both[:, 0]), np.ptp(both[:, 1]), 1e-3) * 1.15
    s = size / span
    to2d = lambda p: np.stack([p[:, 0] * s + size / 2, p[:, 1] * s + size / 2], 1)  # noqa: E731
    canvas = np.full((size, size, 3), 255, np.uint8)
    canvas = draw_mesh(canvas, to2d(tb), tb[:, 2], faces_b, (200, 120, 60), 1.0)
    canvas = draw_mesh(canvas, to2d(to), to[:, 2], faces_o, (60, 160, 60), 1.0)
    cv2.putText(canvas, "side view (from camera right)", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    return canvas


def measure(it: dict, args, out: Path, lib, recons: dict) -> dict:
    """One image: reconstruction, silhouette IoU against the given masks, overlay sheet; its result row."""
    bgr = _read_image(it["image"])
    rgb = np.ascontiguousarray(bgr[..., ::-1])
    h, w = rgb.shape[:2]
    hm, om = _read_mask(it["human"]), _read_mask(it["object"])
    if hm.shape != (h, w):
        hm = cv2.resize(hm.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    if om.shape != (h, w):
        om = cv2.resize(om.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    hfov = args.hfov_behave if it["kind"] == "behave" else args.hfov
    intr = CameraIntrinsics.from_fov(w, h, hfov)
    name = it["object_name"]
    template = BEHAVE_TO_TEMPLATE.get(name) if name else None
    if name and template is None:
        status = f"object {name!r} has no comparable template in the library: unknown (class head guess used)"
    elif name:
        status = f"object {name!r} mapped to the nearest template kind {template!r}"
    else:
        status = "object name not given: class head guess used"
    if template not in recons:
        fit = {"card": None, "yes": True, "no": False}[args.silhouette_fit]
        recons[template] = load_reconstructor(args.model, "fullbody", object_class=template, silhouette_fit=fit)
    recon = recons[template]
    frame = Frame(image=rgb, stamp_ns=0, frame_id="camera", intrinsics=intr, masks=np.stack([hm, om]))
    res = recon.reconstruct(frame)
    # the reconstructor may find no person or object in the given masks: nothing to measure
    if res is None or not res.bodies or not res.objects:
        what = "result" if res is None else "body" if not res.bodies else "object"
        raise InferenceError(f"the reconstructor returned no {what}")
    body, obj = res.bodies[0], res.objects[0]
    from scipy.spatial.transform import Rotation

    asset = lib.get(obj.template_id)
    r = Rotation.from_quat(obj.pose.orientation).as_matrix()
    ov = float(obj.scale[0]) * asset.vertices @ r.T + obj.pose.position
    k = intr.matrix
    faces_b = recon.faces.astype(np.int64)
    pb, po = pinhole_project(body.vertices, k, 1e-3), pinhole_project(ov, k, 1e-3)
    sil_b, sil_o = rasterize(pb, faces_b, (h, w)), rasterize(po, asset.faces, (h, w))
    row = {"id": it["id"], "image": str(it["image"]), "object_name": name, "template": obj.template_id,
           "class_name": obj.class_name, "status": status, "hfov_deg": hfov,
           "iou_human": iou(sil_b, hm), "iou_object": iou(sil_o, om),
           "silhouette_fit": recon.infer.silhouette_fit,
           "body_depth_m": float(body.vertices[:, 2].mean()), "object_depth_m": float(ov[:, 2].mean())}
    # front overlay: meshes over the image (+ given mask contours), side view next to it
    front = bgr.copy()
    front = draw_mesh(front, pb, body.vertices[:, 2], faces_b, (200, 120, 60), 0.55)
    front = draw_mesh(front, po, ov[:, 2], asset.faces, (60, 180, 60), 0.55)
    for m, col in ((hm, (255, 255, 0)), (om, (255, 0, 255))):
        cs, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(front, cs, -1, col, max(1, w // 400))
    scale = 512 / max(h, w)
    front = cv2.resize(front, (int(w * scale), int(h * scale)))
    side = side_view(body.vertices, ov, faces_b, asset.faces, size=front.shape[0])
    sheet = np.concatenate([front, side], axis=1)
    txt = f"IoU human {row['iou_human']:.2f} object {row['iou_object']:.2f} | {obj.class_name}"
    cv2.putText(sheet, txt, (6, sheet.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
    cv2.imwrite(str(out / f"{it['id']}.png"), sheet)
    print(f"{it['id']}: IoU human {row['iou_human']:.3f}, object {row['iou_object']:.3f}; {status}; "
          f"predicted class {obj.class_name}")
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", nargs="+")
    ap.add_argument("--model", default="fullbody")
    ap.add_argument("--out", required=True)
    ap.add_argument("--hfov-behave", type=float, default=90.0, help="Kinect Azure colour 4:3 mode, nominal")
    ap.add_argument("--hfov", type=float, default=60.0)
    ap.add_argument("--silhouette-fit", choices=("card", "yes", "no"), default="card",
                    help="fit the object to the given object mask (silhouette_fit.py); default: as the model card says. "
                         "With the fit, the object IoU is partly the fit's own objective")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from hoi_perception.assets import object_library

    lib = object_library()
    recons: dict = {}
    rows = []
    for root in args.roots:
        for it in find_items(Path(root)):
            try:
                rows.append(measure(it, args, out, lib, recons))
            except (InputError, InferenceError) as exc:  # one bad item must not cost the others
                rows.append({"id": it["id"], "image": str(it["image"]), "object_name": it["object_name"],
                             "error": str(exc)})
                print(f"{it['id']}: skipped: {exc}")
    good = [r for r in rows if "error" not in r]
    if good:
        print(f"mean IoU human {np.mean([r['iou_human'] for r in good]):.3f}, "
              f"object {np.mean([r['iou_object'] for r in good]):.3f} over {len(good)} real images"
              + (f" ({len(rows) - len(good)} skipped)" if len(good) < len(rows) else ""))
    atomic_write_bytes(out / "results.json", json.dumps(rows, indent=1).encode())
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
