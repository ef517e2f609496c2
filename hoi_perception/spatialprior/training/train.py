"""Train the spatial prior's flow on the engine's scenes seen from random viewports (resumable,
seeded, logged).

    python -m hoi_perception.spatialprior.training.train --data data/fb_prior901,data/fb_seg902 \\
        --out runs/spatialprior --steps 6000

A tenth of the scenes (seeded) is kept apart for validation: its negative log-likelihood per
dimension on fixed viewports is logged every ``--ckpt-every`` steps in <out>/log.csv beside the
checkpoint (plain state dicts, torch.save; loaded with weights_only=True). ``best.pt`` keeps the
best validation step. Rerunning the same command resumes from <out>/last.pt. ``--release DIR``
writes the best step as the shipped model (fp16 safetensors + config.json).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from hoi_perception.spatialprior.flow import ConditionalFlow, FlowConfig
from hoi_perception.spatialprior.prior import N_OBJECT_KEYPOINTS, condition_size
from hoi_perception.training_log import TrainingLog, save_training_state

from .data import body_frame_arrays, load_arrangements, views

FIELDS = ["step", "loss", "val_nll", "lr", "wall_s"]
EXACT = ("lower", "upper", "log_s", "loc", "log_scale")
VAL_SHARE = 0.1
VAL_VIEWS = 8


def manifest_hash(roots) -> str:
    """The shard folders' manifests, and for scene files their contents."""
    h = hashlib.sha256()
    for r in roots:
        h.update(Path(r).read_bytes() if str(r).endswith(".npz") else (Path(r) / "manifest.json").read_bytes())
    return h.hexdigest()


def prepare(data: dict, kinds: list[str]) -> dict:
    body, obj = body_frame_arrays(data)
    idx = torch.as_tensor([kinds.index(k) for k in data["kinds"]])
    return {"body": body, "obj": obj, "one_hot": torch.nn.functional.one_hot(idx, len(kinds)).float(),
            "extents": torch.as_tensor(np.asarray(data["extents"]), dtype=torch.float32)}


def nll(flow: ConditionalFlow, t: dict, rows: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
    x, ctx = views(t["body"][rows], t["obj"][rows], t["one_hot"][rows], t["extents"][rows], cameras)
    return -flow.log_prob(x, ctx).mean() / flow.cfg.dim


@torch.no_grad()
def validation_nll(flow: ConditionalFlow, t: dict, rows: np.ndarray) -> float:
    from hoi_perception.spatialprior.layout import random_viewports

    flow.eval()
    g = torch.Generator().manual_seed(1234)
    r = torch.as_tensor(rows).repeat_interleave(VAL_VIEWS)
    out = float(nll(flow, t, r, random_viewports((len(r),), g)))
    flow.train()
    return out


def release(ckpt: Path, out: Path) -> dict:
    """The checkpoint's flow as the shipped model: fp16 safetensors and config.json (atomic writes)."""
    from safetensors.torch import save_file

    from hoi_perception.atomic_files import atomic_write, atomic_write_bytes

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    facts = json.loads(state["facts"])
    out.mkdir(parents=True, exist_ok=True)
    # the networks' weights in fp16; the invertible maps (LU factors, log-scales, normalisation) stay fp32:
    # their rounding compounds through the layers (fp16 everywhere cost 0.39 nats per dimension on validation)
    weights = {k: (v.half() if v.is_floating_point() and not k.endswith(EXACT) else v).contiguous()
               for k, v in state["model"].items()}
    atomic_write(out / "model.safetensors", lambda tmp: save_file(weights, tmp))
    atomic_write_bytes(out / "config.json", json.dumps(facts["config"], indent=1).encode())
    return facts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="full-body shard folders (training split) and scene files "
                    "(`scenes.py`, .npz), separated by commas")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--flow-steps", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-every", type=int, default=250)
    ap.add_argument("--release", default=None, help="write best.pt as the shipped model to this folder and stop")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.release:
        facts = release(out / "best.pt", Path(args.release))
        print(json.dumps({k: v for k, v in facts.items() if k != "config"}))
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out.mkdir(parents=True, exist_ok=True)
    roots = args.data.split(",")
    data = load_arrangements(roots, cache=out / "arrangements.npz")
    kinds = sorted(set(data["kinds"]))
    t = prepare(data, kinds)
    # validation: a tenth of the rendered sets' scenes (the same ones whatever scene files are added)
    n, n_shards = len(data["kinds"]), int(data["from_shards"])
    order = np.random.default_rng(args.seed).permutation(n_shards)
    val_rows = np.sort(order[:int(VAL_SHARE * n_shards)])
    train_rows = np.concatenate([np.sort(order[int(VAL_SHARE * n_shards):]), np.arange(n_shards, n)])
    cfg = FlowConfig(dim=2 * N_OBJECT_KEYPOINTS, context=condition_size(len(kinds)), steps=args.flow_steps,
                     hidden=args.hidden)
    flow = ConditionalFlow(cfg)
    opt = torch.optim.Adam(flow.parameters(), lr=args.lr)
    facts = {"config": {**cfg.__dict__, "kinds": kinds, "data": [Path(r).name for r in roots],
                        "data_manifest_sha256": manifest_hash(roots), "scenes_train": len(train_rows),
                        "scenes_val": len(val_rows), "seed": args.seed, "batch": args.batch,
                        "hardware": "2 CPU cores (x86-64), no GPU"}}
    last, step, best = out / "last.pt", 0, float("inf")
    gen = torch.Generator().manual_seed(args.seed)
    if last.is_file():
        state = torch.load(last, map_location="cpu", weights_only=True)
        with torch.no_grad():  # the ActNorm layers were set up by the first run's first batch
            flow(*views(t["body"][:2], t["obj"][:2], t["one_hot"][:2], t["extents"][:2], torch.ones(2, 3) * 3))
        flow.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
        best = json.loads(state["facts"]).get("best_val_nll", best)
        gen.manual_seed(args.seed + step)
        print(f"resumed at step {step}")
    log = TrainingLog(out / "log.csv", FIELDS, resume_at=step if last.is_file() else None)
    t0 = time.time()
    from hoi_perception.spatialprior.layout import random_viewports

    while step < args.steps:
        lr = float(args.lr * 0.5 * (1 + np.cos(np.pi * step / args.steps)))  # cosine decay to zero
        for g in opt.param_groups:
            g["lr"] = lr
        rows = torch.as_tensor(train_rows)[torch.randint(len(train_rows), (args.batch,), generator=gen)]
        loss = nll(flow, t, rows, random_viewports((args.batch,), gen))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(flow.parameters(), 5.0)
        opt.step()
        step += 1
        if step % args.ckpt_every == 0 or step == args.steps:
            val = validation_nll(flow, t, val_rows)
            log.write({"step": step, "loss": float(loss.detach()), "val_nll": val, "lr": lr, "wall_s": time.time() - t0})
            facts["config"]["train_steps"] = step
            if val < best:
                best = val
                facts["config"]["val_nll_per_dim"] = val
                save_training_state(out / "best.pt", flow, opt, step, {**facts, "best_val_nll": best})
            save_training_state(last, flow, opt, step, {**facts, "best_val_nll": best})
            print(f"step {step}: loss {float(loss.detach()):.3f} val {val:.3f} (best {best:.3f}) {time.time() - t0:.0f} s",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
