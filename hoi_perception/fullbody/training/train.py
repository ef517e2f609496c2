"""Train CrossHOI (or its single-view baseline, or the cross-view generator alone).

    python -m hoi_perception.fullbody.training.train --mode generator --data data/fullbody_train \
        --backbone-from runs/fb_single/ckpt.pt --out runs/fb_gen --minutes 6
    python -m hoi_perception.fullbody.training.train --mode recon --data data/fullbody_train --out runs/fb_cross \
        --init runs/fb_single/snap.pt --generator-from runs/fb_gen/ckpt.pt --minutes 20
    python -m hoi_perception.fullbody.training.train --mode recon --single-view --data data/fullbody_train --out runs/fb_single

Resumable (the same command continues from <out>/ckpt.pt), seeded, one CPU thread by default,
logged to <out>/log.csv. Checkpoints are plain state dicts (torch.save; load with weights_only=True).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from hoi_perception.body.vertex_subset import load_subset
from hoi_perception.schedule import cosine_lr
from hoi_perception.training_log import TrainingLog, save_checkpoint

from ..model import FUSION_DIRECTIONS, CrossHOI, ModelConfig
from .augment import AugmentConfig, augment_batch
from .data import batch, load_scene_sets, train_classes
from .grow import load_grown
from .losses import map_loss, recon_loss


def _save(obj, path: Path) -> None:
    save_checkpoint(path, obj)


def load_checkpoint(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _init_state(path: str) -> dict:
    """Weights to start from: a training checkpoint, or a released fp16 safetensors file (as fp32)."""
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file

        return {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    return load_checkpoint(path)["model"]


def lr_for(args, step: int) -> float:
    if args.schedule == "cosine":
        return cosine_lr(step, args.steps, args.lr, warmup=args.warmup)
    return args.lr


def build_model(cfg: ModelConfig) -> CrossHOI:
    return CrossHOI(cfg)


def _view_b_map_loss(model: CrossHOI, fa: torch.Tensor, b: dict) -> dict:
    """The paper's L_map during joint training. The target is what the backbone sees from view B at
    inference (eval mode: running BatchNorm statistics, which view-B crops must not update); the
    generator reads a detached F_A, so L_map trains the generator only and cannot reshape the backbone
    to make its own target easy."""
    was_training = model.backbone.training
    model.backbone.eval()
    with torch.no_grad():
        fb = model.backbone(b["image_1"].float())
    model.backbone.train(was_training)
    return map_loss(model.generator(fa.detach(), b["intrinsics_0"]), fb)


def _load_data(args, crop):
    # crops kept in fp16 (cast back per batch): two runs on a 24k-scene set fit in 24 GB of RAM
    return load_scene_sets(args.data, crop, max_items=args.max_items, with_view_b=True, image_dtype=torch.float16)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="train the full-body CrossHOI network")
    ap.add_argument("--mode", choices=("recon", "generator"), default="recon")
    ap.add_argument("--single-view", action="store_true", help="the single-view baseline (no generated view)")
    ap.add_argument("--data", required=True, nargs="+", help="one or more shard folders (concatenated)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--minutes", type=float, default=0.0,
                    help="wall-clock budget of this invocation (0: none); the same command resumes the run")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                    help="cosine: --warmup linear steps, then cosine decay to 2 %% of --lr at --steps")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--width", type=int, default=48)
    ap.add_argument("--backbone-widths", type=int, nargs=3, default=None, metavar=("W1", "W2", "W3"),
                    help="output channels of the three stride-2 backbone blocks (default width/4, width/2, width); "
                         "with --init from a narrower model its backbone is embedded (hoi_perception.fullbody.training.grow)")
    ap.add_argument("--fusion", choices=FUSION_DIRECTIONS, default="both",
                    help="direction of the cross-view transformers (A<->B, only A from B, only B from A)")
    ap.add_argument("--max-items", type=int, default=None)
    ap.add_argument("--reload-every", type=int, default=0, help="re-read the shard folder every N steps (0: never)")
    ap.add_argument("--init", default=None,
                    help="initialise matching weights from this checkpoint (.pt) or released weights (.safetensors)")
    ap.add_argument("--generator-from", default=None, help="pre-trained generator checkpoint (mode generator)")
    ap.add_argument("--backbone-from", default=None, help="frozen backbone for generator pre-training")
    ap.add_argument("--augment", action="store_true",
                    help="zoom/shift the stored crops (intrinsics and 2D joints follow exactly) and jitter colour")
    ap.add_argument("--aug-scale", type=float, default=AugmentConfig.scale)
    ap.add_argument("--aug-shift", type=float, default=AugmentConfig.shift)
    ap.add_argument("--aug-color", type=float, default=AugmentConfig.color)
    ap.add_argument("--centred-vertex-weight", type=float, default=0.0,
                    help="weight of an extra vertex L1 with centroids removed (0: the paper's losses only)")
    ap.add_argument("--map-weight", type=float, default=0.0,
                    help="recon mode: also train the generator with L_map against the real view-B features "
                         "(eval-mode backbone, no gradient), so it stays an imagined second view (0: recon losses only)")
    ap.add_argument("--snapshot-at", type=int, default=0, help="also save <out>/snap.pt at this step")
    ap.add_argument("--save-every", type=int, default=100)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = ModelConfig(crop=args.crop, width=args.width, heads=4, kv_tokens=32, vdim=48, hidden=256,
                      n_classes=len(train_classes()), cross_view=not args.single_view or args.mode == "generator",
                      fusion=args.fusion, backbone_widths=args.backbone_widths)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    model = build_model(cfg)
    edges = load_subset("body").edges
    ckpt_path = out / "ckpt.pt"
    step, elapsed_before = 0, 0.0
    if args.mode == "generator":
        params = list(model.generator.parameters())
    else:
        params = [p for p in model.parameters()]
    opt = torch.optim.Adam(params, lr=args.lr)
    resumed = ckpt_path.exists()
    if resumed:
        ck = load_checkpoint(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed_before = int(ck["step"]), float(ck["elapsed"])
        torch.set_rng_state(ck["rng"])
        print(f"resumed from {ckpt_path} at step {step}")
    else:
        if args.init:
            copied, embedded = load_grown(model, _init_state(args.init))
            print(f"initialised {copied} + {embedded} widened of {len(model.state_dict())} tensors from {args.init}")
        if args.generator_from:
            sd = load_checkpoint(args.generator_from)["model"]
            gen = {k: v for k, v in sd.items() if k.startswith("generator.")}
            model.load_state_dict(gen, strict=False)
            print(f"pre-trained generator: {len(gen)} tensors from {args.generator_from}")
        if args.backbone_from:
            sd = load_checkpoint(args.backbone_from)["model"]
            bb = {k: v for k, v in sd.items() if k.startswith("backbone.")}
            model.load_state_dict(bb, strict=False)
            print(f"frozen backbone: {len(bb)} tensors from {args.backbone_from}")
    (out / "config.json").write_text(json.dumps({"model": cfg.to_dict(), "args": vars(args),
                                                 "classes": train_classes()}, indent=1))
    data = _load_data(args, cfg.crop)
    n = len(data["index"])
    print(f"{n} scenes from {' + '.join(args.data)} (manifest {data['meta']['manifest_sha256'][:12]})")
    fields = ["step", "time_s", "n_train", "lr", "total", "param", "joint3d", "joint2d", "object_class", "contact",
              "vertex", "vertex_init", "edge", "vertex_centred", "map", "mse", "cos"]
    # a resumed run drops the rows it logged past its checkpoint (it trains those steps again)
    logger = TrainingLog(out / "log.csv", fields, resume_at=step if resumed else None)
    g = torch.Generator().manual_seed(args.seed * 1000003 + step)
    aug = AugmentConfig(scale=args.aug_scale, shift=args.aug_shift, color=args.aug_color) if args.augment else None
    loss_weights = {"vertex_centred": args.centred_vertex_weight}
    t0 = time.time()
    model.train()
    if args.mode == "generator":
        model.backbone.eval()
        for p in model.backbone.parameters():
            p.requires_grad_(False)
    while step < args.steps and not (args.minutes and (time.time() - t0) >= args.minutes * 60):
        if args.reload_every and step and step % args.reload_every == 0:
            data = _load_data(args, cfg.crop)
            n = len(data["index"])
        for group in opt.param_groups:
            group["lr"] = lr_for(args, step)
        idx = torch.randint(0, n, (args.batch,), generator=g)
        b = batch(data, idx)
        img0 = b["image_0"].float()
        if args.mode == "generator":
            with torch.no_grad():
                fa = model.backbone(img0)
                fb = model.backbone(b["image_1"].float())
            losses = map_loss(model.generator(fa, b["intrinsics_0"]), fb)
            total = losses["map"]
        else:
            b["image_0"] = img0
            if aug is not None:
                b = augment_batch(b, aug, g)
            outp = model(b["image_0"], b["intrinsics_0"], b["template"])
            losses = recon_loss(outp, b, edges, loss_weights)
            total = losses["total"]
            if args.map_weight > 0 and model.generator is not None:
                m = _view_b_map_loss(model, outp["features_a"], b)
                losses.update(m)
                total = total + args.map_weight * m["map"]
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        step += 1
        if step % 10 == 0 or step == 1:
            row = {"step": step, "time_s": elapsed_before + time.time() - t0, "n_train": n,
                   "lr": opt.param_groups[0]["lr"], **{k: float(v.detach()) for k, v in losses.items()}}
            if args.mode == "generator":
                row["total"] = float(total)
            logger.write(row)
            print(" ".join(f"{k}={row[k]:.4g}" if isinstance(row[k], float) else f"{k}={row[k]}" for k in row), flush=True)
        if step % args.save_every == 0 or step == args.snapshot_at:
            state = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                     "elapsed": elapsed_before + time.time() - t0, "rng": torch.get_rng_state(),
                     "config": json.dumps(cfg.to_dict())}
            _save(state, ckpt_path)
            if step == args.snapshot_at:
                _save(state, out / "snap.pt")
    logger.close()
    state = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
             "elapsed": elapsed_before + time.time() - t0, "rng": torch.get_rng_state(),
             "config": json.dumps(cfg.to_dict())}
    _save(state, ckpt_path)
    info = {"step": step, "wall_s": state["elapsed"], "n_train": n, "manifest_sha256": data["meta"]["manifest_sha256"],
            "hardware": f"{platform.processor() or platform.machine()}, {args.threads} thread(s), {os.cpu_count()} cores"}
    if step < args.steps:  # stopped by --minutes: say so, and leave no "done" marker behind
        (out / "done.json").unlink(missing_ok=True)
        print(f"stopped by the --minutes budget at step {step} of {args.steps}; run the same command again to resume")
    else:
        (out / "done.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
