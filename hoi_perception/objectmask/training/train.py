"""Train the object segmenter on the engine's full-body renders (resumable, seeded, logged).

    python -m hoi_perception.objectmask.training.train --data data/fb_prior901,data/fb_seg902 \\
        --heldout data/fullbody_heldout40 --out runs/objectmask --steps 3000

``--init models/objectmask`` starts from a released model's weights (a fine-tune, e.g. on renders
with clutter, `hoi-perception synth --distractors`). Every ``--ckpt-every`` steps: a checkpoint
(plain state dicts, torch.save; loaded with weights_only=True) and the held-out set's mean IoU in
<out>/log.csv; ``best.pt`` keeps the step with the best held-out IoU. Rerunning the same command
resumes from <out>/last.pt.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from hoi_perception.training_log import TrainingLog, save_training_state

from ..net import SegmenterNet
from .data import batch, load_views

FIELDS = ["step", "loss", "heldout_iou", "lr", "wall_s"]


def manifest_hash(roots) -> str:
    h = hashlib.sha256()
    for r in roots:
        h.update((Path(r) / "manifest.json").read_bytes())
    return h.hexdigest()


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy plus a soft Dice term (objects are a few per cent of the crop)."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits)
    inter = (p * target).sum((1, 2))
    dice = 1 - (2 * inter + 1) / (p.sum((1, 2)) + target.sum((1, 2)) + 1)
    return bce + dice.mean()


@torch.no_grad()
def heldout_iou(model, views, level: float = 0.5) -> float:
    model.eval()
    rng = np.random.default_rng(0)
    ious = []
    for start in range(0, len(views), 32):
        x, y = batch(views, np.arange(start, min(start + 32, len(views))), rng, augment=False)
        pred = torch.sigmoid(model(torch.as_tensor(x))["logits"]).numpy() > level
        truth = y > 0.5
        for p, t in zip(pred, truth):
            union = (p | t).sum()
            if t.any():
                ious.append((p & t).sum() / union)
    model.train()
    return float(np.mean(ious))


def save(path: Path, model, opt, sched, step: int, facts: dict) -> None:
    save_training_state(path, model, opt, step, facts, sched=json.dumps(sched.state_dict()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="full-body shard folders, separated by commas")
    ap.add_argument("--heldout", required=True, help="a held-out full-body shard folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--init", default=None, help="a released model folder whose weights the run starts from")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    roots = [Path(p) for p in args.data.split(",")]
    views = load_views(roots)
    held = load_views([Path(args.heldout)])
    data_hash = manifest_hash(roots)
    print(f"{len(views)} training views from {len(roots)} sets (manifests {data_hash[:12]}), {len(held)} held out")
    torch.manual_seed(args.seed)
    model = SegmenterNet()
    if args.init:
        from ..segmenter import load_torch_net, read_card

        init = Path(args.init)
        model.load_state_dict(load_torch_net(init, read_card(init).get("weights_torch", "model.safetensors")).state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    step, wall, best = 0, 0.0, -1.0
    last = out / "last.pt"
    if last.is_file():
        state = torch.load(last, map_location="cpu", weights_only=True)
        facts = json.loads(state["facts"])
        if facts["data_sha256"] != data_hash:
            raise SystemExit(f"{last} was trained on other data ({facts['data_sha256'][:12]}); use another --out")
        if facts["steps"] != args.steps:  # the learning-rate schedule spans the run's steps
            raise SystemExit(f"{last} belongs to a run of --steps {facts['steps']}; resume with the same")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(json.loads(state["sched"]))
        step = int(state["step"])
        wall, best = float(facts["wall_s"]), float(facts["best_iou"])
        print(f"resumed at step {step}")
    log = TrainingLog(out / "log.csv", FIELDS, resume_at=step if step else None)
    t0 = time.time()
    while step < args.steps:
        # the batch order depends on the seed and the step only, so a resumed run sees what a whole one would
        rng = np.random.default_rng([args.seed, step])
        x, y = batch(views, rng.integers(0, len(views), args.batch), rng)
        loss = loss_fn(model(torch.as_tensor(x))["logits"], torch.as_tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if step % args.ckpt_every == 0 or step == args.steps:
            iou = heldout_iou(model, held)
            elapsed = wall + time.time() - t0
            facts = {"wall_s": elapsed, "seed": args.seed, "data": [str(r) for r in roots], "data_sha256": data_hash,
                     "heldout": args.heldout, "steps": args.steps, "batch": args.batch, "best_iou": max(best, iou),
                     "init": args.init or "", "lr": args.lr}
            if iou > best:
                best = iou
                save(out / "best.pt", model, opt, sched, step, {**facts, "heldout_iou": iou})
            save(last, model, opt, sched, step, facts)
            log.write({"step": step, "loss": loss.item(), "heldout_iou": iou, "lr": sched.get_last_lr()[0],
                       "wall_s": elapsed})
            print(f"step {step}: loss {loss.item():.4f}, held-out IoU {iou:.3f} (best {best:.3f}), {elapsed:.0f} s",
                  flush=True)
    log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
