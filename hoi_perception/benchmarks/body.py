"""Body/hand model figures: forward time (batch 1 and 64) and vertex-subset upsampling error.

    python bench/bench_body.py [--json] [--threads N] [--repeats 20] [--error-samples 64]

Times are medians over --repeats runs after two warm-up runs, on random shapes and poses,
CPU, float32. "anny_native" is anny's own forward (identity deltas) for reference.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from hoi_perception.body import load_body_model
from hoi_perception.body.vertex_subset import load_subset, random_params, upsampling_error


def time_forward(model, batch: int, repeats: int, grad: bool) -> float:
    """Median wall time (ms) of one forward (and backward when grad) on random poses."""
    params = random_params(model, batch, torch.Generator().manual_seed(0))
    times = []
    for i in range(repeats + 2):  # two warm-up runs
        pose = params.pose.clone().requires_grad_(grad)
        p = type(params)(params.shape, pose, params.global_orient, params.transl)
        t = time.perf_counter()
        with torch.set_grad_enabled(grad):
            out = model(p)
            if grad:
                out.vertices.square().sum().backward()
        if i >= 2:
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="also print one JSON line")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--error-samples", type=int, default=64)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    t = time.perf_counter()
    body = load_body_model("anny", kind="body")
    load_s = time.perf_counter() - t
    result = {"torch_threads": torch.get_num_threads(), "body_load_s": round(load_s, 2)}
    for kind in ("body", "hand_right"):
        model = load_body_model("anny", kind=kind)
        for batch in (1, 64):
            result[f"{kind}_fwd_ms_b{batch}"] = round(time_forward(model, batch, args.repeats, False), 2)
        # batch 1 with its backward pass: one step of the fitting core's optimiser on one image
        result[f"{kind}_fwd_bwd_ms_b1"] = round(time_forward(model, 1, args.repeats, True), 2)
        result[f"{kind}_fwd_bwd_ms_b64"] = round(time_forward(model, 64, max(3, args.repeats // 4), True), 2)
        err = upsampling_error(model, load_subset(kind), count=args.error_samples)
        result[f"{kind}_subset"] = load_subset(kind).num_subset
        result[f"{kind}_upsample_mean_mm"] = round(err["mean_m"] * 1000, 2)
        result[f"{kind}_upsample_p95_mm"] = round(err["p95_m"] * 1000, 2)
        result[f"{kind}_upsample_max_mm"] = round(err["max_m"] * 1000, 2)
    for batch in (1, 64):
        shape = torch.full((batch, 6), 0.5)
        with torch.no_grad():
            times = []
            for i in range(args.repeats + 2):
                t = time.perf_counter()
                body.anny(None, shape)
                if i >= 2:
                    times.append((time.perf_counter() - t) * 1000)
        result[f"anny_native_fwd_ms_b{batch}"] = round(statistics.median(times), 2)
    result["body_vertices"] = body.num_vertices
    for key, value in result.items():
        print(f"{key:32s} {value}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
