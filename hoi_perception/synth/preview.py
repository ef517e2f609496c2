"""`hoi-perception synth-preview DIR`: a contact sheet PNG of random samples of a dataset.

One row per sample. Full-body rows: view A with projected joints (body white, hands cyan) and
contact vertices (body red, object yellow), the instance mask (body grey, left hand blue, right
hand green, object orange), the amodal object mask over the visible one (the part hidden by the
person in magenta), and view B. Hand-clip rows: first and last frame with hand joints, instance
mask and amodal mask of the first frame.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from hoi_perception.cli import CliError
from hoi_perception.raster import pinhole_project

INSTANCE_COLOURS = np.array([[0, 0, 0], [150, 150, 150], [60, 120, 255], [60, 220, 90], [255, 150, 40]], np.uint8)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", help="dataset folder written by `hoi-perception synth`")
    parser.add_argument("--out", default=None, help="PNG path (default DIR/preview.png)")
    parser.add_argument("--rows", type=int, default=6, help="samples on the sheet (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="which random samples (default 0)")


def main(args: argparse.Namespace) -> int:
    from hoi_perception.synth.shards import ShardError, ShardSet

    try:
        data = ShardSet(args.dataset)
    except (FileNotFoundError, ShardError, ValueError) as exc:
        raise CliError(f"cannot open dataset {args.dataset}: {exc}") from exc
    if len(data) == 0:
        raise CliError(f"dataset {args.dataset} has no finished samples yet")
    if args.rows <= 0:
        raise CliError("--rows must be positive")
    rng = np.random.default_rng(args.seed)
    picks = sorted(rng.choice(len(data), size=min(args.rows, len(data)), replace=False).tolist())
    rows = [sample_row(*data.get(i)[:2]) for i in picks]
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows], 0)
    out = Path(args.out) if args.out else Path(args.dataset) / "preview.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet[..., ::-1]):
        raise CliError(f"cannot write {out}")
    print(f"wrote {out} ({len(rows)} samples)")
    return 0


def sample_row(arrays: dict, meta: dict) -> np.ndarray:
    from hoi_perception.synth.engine import decode_png

    if meta.get("kind") == "hand":
        last = meta["frames"] - 1
        tiles = [
            _draw_points(decode_png(arrays["rgb_0"]), arrays["hand_joints_2d"][0], (0, 255, 255)),
            _draw_points(decode_png(arrays[f"rgb_{last}"]), arrays["hand_joints_2d"][last], (0, 255, 255)),
            INSTANCE_COLOURS[np.clip(decode_png(arrays["instance_0"]), 0, 4)],
            _amodal_tile(decode_png(arrays["instance_0"]), decode_png(arrays["amodal_object_0"])),
        ]
        label = f"hand {meta['side']} {meta['object_id']}"
    else:
        K, T = arrays["K"][0], arrays["world_to_cam"][0]
        rgb = decode_png(arrays["rgb_0"])
        j2d = arrays["joints_2d"][0]
        rgb = _draw_points(rgb, j2d[:22], (255, 255, 255))
        rgb = _draw_points(rgb, j2d[22:], (0, 255, 255), radius=1)
        body_contact = arrays["body_contact_subset"].astype(bool)
        rgb = _draw_points(rgb, _project(K, T, arrays["body_vertices_subset"][body_contact]), (255, 0, 0), radius=1)
        obj_contact = arrays["object_contact"].astype(bool)
        rgb = _draw_points(rgb, _project(K, T, arrays["object_subset_vertices"][obj_contact]), (255, 255, 0), radius=1)
        tiles = [rgb, INSTANCE_COLOURS[np.clip(decode_png(arrays["instance_0"]), 0, 4)],
                 _amodal_tile(decode_png(arrays["instance_0"]), decode_png(arrays["amodal_object_0"])),
                 decode_png(arrays["rgb_1"])]
        label = f"{meta.get('interaction')} {meta['object_id']}"
    row = np.concatenate(tiles, 1).copy()
    cv2.putText(row, label, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return row


def _project(K: np.ndarray, world_to_cam: np.ndarray, points: np.ndarray) -> np.ndarray:
    return pinhole_project(points @ world_to_cam[:3, :3].T + world_to_cam[:3, 3], K)


def _draw_points(img: np.ndarray, uv: np.ndarray, colour, radius: int = 2) -> np.ndarray:
    out = np.ascontiguousarray(img.copy())
    for u, v in np.asarray(uv):
        if np.isfinite(u) and np.isfinite(v):
            cv2.circle(out, (int(round(u)), int(round(v))), radius, colour, -1, cv2.LINE_AA)
    return out


def _amodal_tile(instance: np.ndarray, amodal: np.ndarray) -> np.ndarray:
    tile = np.zeros(instance.shape + (3,), np.uint8)
    visible = instance == 4
    hidden = (amodal > 0) & ~visible
    tile[visible] = (255, 150, 40)
    tile[hidden] = (255, 0, 255)
    return tile
