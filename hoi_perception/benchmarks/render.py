"""Render time per frame at 256x256 for a body-sized mesh (13.7k vertices, re-posed every frame)
plus a YCB object: RGB (lit, background composited) + depth + instance mask + amodal object mask.

The body is a stand-in with the vertex and face count of the anny body (13,718 / ~27k), deformed
every frame so the in-place vertex-buffer update is exercised. Prints figures; --json adds one line.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import trimesh

from hoi_perception.objects import load_ycb
from hoi_perception.render import RenderMesh, SceneRenderer
from hoi_perception.render import randomize as R


def body_standin() -> trimesh.Trimesh:
    # Capsule subdivided to about the anny vertex count, scaled to 1.7 m x 0.45 m.
    m = trimesh.creation.capsule(height=1.0, radius=0.5, count=[96, 144])
    m.apply_scale([0.45, 0.3, 1.7 / 2.0])
    return m


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    body = body_standin()
    obj = load_ycb("025_mug")
    rng = np.random.default_rng(0)
    S = args.size
    K = np.array([[1.2 * S, 0, (S - 1) / 2], [0, 1.2 * S, (S - 1) / 2], [0, 0, 1.0]])
    T_cw = np.eye(4)
    body_pose = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 3.0], [0, 0, 0, 1.0]])  # z-up body, 3 m ahead

    t0 = time.perf_counter()
    renderer = SceneRenderer(S, S)
    t_init = time.perf_counter() - t0
    body_mat = R.body_material(rng, len(body.vertices), (body.vertices[:, 2] > 0).astype(int))
    bv0 = body.vertices.astype(np.float32)
    times = {"total": [], "sync+rgb": [], "seg": [], "amodal": [], "randomize": []}
    for i in range(args.frames + 3):
        ta = time.perf_counter()
        bg = R.random_background(rng, S, S)
        light = R.random_lighting(rng, T_cw, (0, 0, 2.5))
        obj_mat = R.random_material(rng, obj.vertices)
        tb = time.perf_counter()
        bv = bv0 * (1.0 + 0.02 * np.sin(0.1 * i + bv0[:, 2:3] * 5.0))  # new "pose" every frame
        op = np.eye(4)
        op[:3, 3] = [0.15 * np.sin(0.05 * i), 0.1, 2.5]
        meshes = [RenderMesh(1, bv, body.faces, body_mat, body_pose), RenderMesh(4, obj.vertices, obj.faces, obj_mat, op)]
        res = renderer.render(meshes, K, T_cw, lighting=light, background=bg, amodal_ids=[4])
        tc = time.perf_counter()
        if i >= 3:  # first frames compile shaders and upload buffers
            times["total"].append(tc - tb)
            times["randomize"].append(tb - ta)
    assert res.visible_pixels[1] > 0 and res.amodal_pixels[4] > 0

    # Pass breakdown on the last scene.
    def timed(fn, n=30):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t) / n

    r = renderer._r
    t_rgb = timed(lambda: r.render(renderer._scene, renderer._rgb_flags))
    t_seg = timed(lambda: renderer._seg([1, 4]))
    t_upd = timed(lambda: renderer._sync_mesh(RenderMesh(1, bv0 * np.float32(1.0 + 1e-3 * rng.random()), body.faces, body_mat, body_pose)))
    tot = np.array(times["total"]) * 1e3
    out = {
        "platform": renderer.platform, "size": S, "frames": args.frames,
        "body_vertices": int(len(body.vertices)), "body_faces": int(len(body.faces)),
        "object_vertices": int(len(obj.vertices)),
        "context_init_ms": round(t_init * 1e3, 1),
        "frame_ms_mean": round(float(tot.mean()), 2), "frame_ms_median": round(float(np.median(tot)), 2),
        "frame_ms_p90": round(float(np.percentile(tot, 90)), 2),
        "frames_per_s": round(1e3 / float(tot.mean()), 1),
        "rgb_pass_ms": round(t_rgb * 1e3, 2), "seg_pass_ms": round(t_seg * 1e3, 2),
        "body_vertex_update_ms": round(t_upd * 1e3, 2),
        "randomize_ms_mean": round(float(np.mean(times["randomize"]) * 1e3), 2),
        "cpu_count": os.cpu_count(),
    }
    print(f"platform {out['platform']}, {S}x{S}, body {out['body_vertices']} v / {out['body_faces']} f, "
          f"object {out['object_vertices']} v")
    print(f"frame (RGB+depth+instance+amodal object): mean {out['frame_ms_mean']} ms, median "
          f"{out['frame_ms_median']} ms, p90 {out['frame_ms_p90']} ms -> {out['frames_per_s']} frames/s")
    print(f"passes: lit RGB {out['rgb_pass_ms']} ms, flat seg {out['seg_pass_ms']} ms, "
          f"body vertex update {out['body_vertex_update_ms']} ms; randomisation {out['randomize_ms_mean']} ms")
    if args.json:
        print(json.dumps(out))
    renderer.close()


if __name__ == "__main__":
    main()
