"""Train the hand-object network on the data engine's hand clips.

    python -m hoi_perception.handobject.training.train --data data/ho_train --out runs/handobject --steps 2000 --seed 0

One thread (`torch.set_num_threads(1)`), seeded (the clip and frame choice of step s depends only on
(seed, s), so a resumed run sees the same batches), resumable (`<out>/last.pt` every --ckpt-every steps
and at the end; `--resume` continues from it), logged to `<out>/log.csv`. The training set may still
be growing: the manifest is re-read every --reload-every steps and finished shards are added.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from hoi_perception.pipeline.stages import resolve_model_dir
from hoi_perception.schedule import cosine_lr
from hoi_perception.synth.shards import ShardSet, ShardSets, open_shards
from hoi_perception.training_log import TrainingLog
from hoi_perception.training_log import save_checkpoint as write_checkpoint

from .. import flow
from ..flip import flip_item
from ..model import HandObjectNet, NetConfig, count_parameters
from .augment import camera_degrade
from .data import clip_item, collate, random_frames
from .losses import batch_metrics, flow_losses, losses

# modules a --config override may add to an --init network (both start out computing nothing new)
ADDABLE_MODULES = ("lift.", "mask_refine.", "hand_refine.")
LOG_FIELDS = ["step", "wall_s", "lr", "clips_available", "total", "occ_bce", "occ_dice", "occ_flow", "mask_flow",
              "mask_bce", "mask_dice", "rot", "centre", "hand_uv", "hand_z", "occ_iou", "amodal_iou", "rot_deg"]


def make_batch(shards: ShardSet | ShardSets, rng: np.random.Generator, batch: int, slots: int, flip_prob: float = 0.0,
               camera_aug: float = 0.0, aug_rng: np.random.Generator | None = None) -> dict:
    """`camera_aug` degrades that share of clips (augment.camera_degrade) with draws from `aug_rng`, a
    stream of its own, so a run with it and one without see the same clips, frames and mirroring."""
    if camera_aug > 0 and aug_rng is None:
        raise ValueError("camera_aug needs aug_rng, a random stream of its own")
    items = []
    for _ in range(batch):
        i = int(rng.integers(len(shards)))
        arrays, meta, _ = shards.get(i)
        frames = random_frames(rng, int(meta["frames"]), 2, slots)
        it = clip_item(arrays, frames)
        # training uses `slots` frame slots (fewer than the 6 of inference: cheaper, same weights)
        items.append({k: (v[:slots] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == 6 and k != "occupancy"
                          else v) for k, v in it.items()})
        # photometric jitter per clip (brightness / contrast / colour balance)
        img = items[-1]["images"]
        gain = rng.uniform(0.75, 1.25) * rng.uniform(0.9, 1.1, size=(1, 3, 1, 1))
        items[-1]["images"] = np.clip((img - 0.5) * rng.uniform(0.8, 1.2) + 0.5, 0, 1) * gain
        items[-1]["images"] = np.clip(items[-1]["images"], 0, 1).astype(np.float32)
        if camera_aug > 0 and aug_rng.random() < camera_aug:
            items[-1]["images"] = camera_degrade(items[-1]["images"], aug_rng)
        # the mirrored scene, every target reflected exactly (flip.py); no draw when off, so the
        # batches of runs without it are unchanged
        if flip_prob > 0 and rng.random() < flip_prob:
            items[-1] = flip_item(items[-1])
    return collate(items)


def build_config(args, base: dict | None = None) -> NetConfig:
    """NetConfig from a base (defaults, or the --init folder's), then --config overrides, then --variant."""
    d = {**(base or {}), **(json.loads(args.config) if args.config else {})}
    if args.variant:
        d["variant"] = args.variant
    return NetConfig.from_dict(d)


def select_trainable(model, prefixes: str) -> list:
    """The parameters to optimise: all of them, or only those under the given name prefixes (the
    others get requires_grad=False, so their outputs stay exactly those of the initial weights)."""
    if not prefixes:
        return list(model.parameters())
    keep = tuple(p.strip() + "." for p in prefixes.split(",") if p.strip())
    named = dict(model.named_parameters())
    chosen = [n for n in named if n.startswith(keep)]
    if not chosen:
        raise SystemExit(f"--train-only {prefixes}: no parameter matches")
    for n, p in named.items():
        p.requires_grad_(n in chosen)
    print(f"training {len(chosen)} of {len(named)} parameter tensors ({prefixes})")
    return [named[n] for n in chosen]


def save_checkpoint(path: Path, model, opt, step: int, cfg: NetConfig, extra: dict) -> None:
    write_checkpoint(path, {"model": model.state_dict(), "opt": opt.state_dict(), "step": torch.tensor(step),
                            "config": json.dumps(cfg.to_dict()), "extra": json.dumps(extra)})


def run_facts(args, wall_s: float) -> dict:
    """What a checkpoint records about its run (read back on --resume)."""
    return {"wall_s": wall_s, "seed": args.seed, "data": str(args.data), "init": args.init, "flip_prob": args.flip_prob,
            "camera_aug": args.camera_aug}


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="shard folder of `hoi-perception synth --kind hand --size 128`, or "
                    "several separated by commas, sampled as one set (e.g. both framings)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--slots", type=int, default=4, help="frame slots per clip in training (2..slots valid)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--reload-every", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=0.0, help="stop (and checkpoint) after this wall time")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="stop (and checkpoint) at this step while keeping the --steps learning-rate schedule")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init", default="",
                    help="start a new run from a shipped model folder's weights (its net_config.json; step 0, new optimiser)")
    ap.add_argument("--config", default="",
                    help="JSON NetConfig overrides (tiny runs in tests; with --init, e.g. '{\"lift\": 8}' adds a module)")
    ap.add_argument("--train-only", default="",
                    help="comma-separated parameter-name prefixes to train (e.g. lift,g_in,g_up1,g_up2,g_out); "
                         "every other weight stays frozen")
    ap.add_argument("--variant", choices=("direct", "flow"), default=None,
                    help="direct prediction (BCE + Dice) or conditional flow matching (default: the config's)")
    ap.add_argument("--flip-prob", type=float, default=0.0,
                    help="share of training clips replaced by their mirror image (flip.flip_item), 0 = none")
    ap.add_argument("--camera-aug", type=float, default=0.0,
                    help="share of training clips given camera-like degradations (augment.camera_degrade: muted "
                         "colours, blur, noise, JPEG), 0 = none")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "last.pt"
    cfg = build_config(args)
    torch.manual_seed(args.seed)
    step, wall0 = 0, 0.0
    state = None
    if args.resume and ckpt_path.is_file():
        state = load_checkpoint(ckpt_path)
        cfg = NetConfig.from_dict(json.loads(state["config"]))
    if state is None and args.init:
        from ..infer import load_torch_model  # noqa: PLC0415

        base = load_torch_model(resolve_model_dir(args.init)).net
        cfg = build_config(args, base.cfg.to_dict())
        model = HandObjectNet(cfg).train()
        # --config may add modules (lift, mask_refine, hand_refine); those start as built, every other weight is the model's
        missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
        if unexpected or any(not k.startswith(ADDABLE_MODULES) for k in missing):
            raise SystemExit(f"--init {args.init}: weights do not fit the configuration "
                             f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
        print(f"initialised from {args.init}" + (f"; new modules: {sorted({k.split('.')[0] for k in missing})}"
                                                 if missing else ""))
    else:
        model = HandObjectNet(cfg)
    trained = select_trainable(model, args.train_only)
    opt = torch.optim.AdamW(trained, lr=args.lr, weight_decay=0.01)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
        facts = json.loads(state["extra"])
        wall0 = float(facts.get("wall_s", 0.0))
        # the batches of a step depend on the mirroring and degradations; a resumed run must draw the same ones
        for key in ("flip_prob", "camera_aug"):
            if float(facts.get(key, 0.0)) != getattr(args, key):
                raise SystemExit(f"--resume: the run was started with --{key.replace('_', '-')} "
                                 f"{facts.get(key, 0.0)}, not {getattr(args, key)}")
        print(f"resumed from {ckpt_path} at step {step}")
    shards = open_shards(args.data)
    if len(shards) == 0:
        raise SystemExit(f"{args.data}: no finished shard yet")
    print(f"{count_parameters(model)} parameters; {len(shards)} clips in {args.data}")
    # a resumed run drops the rows it logged past its checkpoint (it trains those steps again)
    log = TrainingLog(out / "log.csv", LOG_FIELDS, resume_at=None if state is None else step)
    t0 = time.time()
    model.train()
    while step < args.steps:
        if args.reload_every and step % args.reload_every == 0 and step:
            shards = open_shards(args.data)
        rng = np.random.default_rng([args.seed, step])
        batch = make_batch(shards, rng, args.batch, args.slots, args.flip_prob,
                           args.camera_aug, np.random.default_rng([args.seed, step, 1]))
        lr = cosine_lr(step, args.steps, args.lr)
        for g in opt.param_groups:
            g["lr"] = lr
        if cfg.variant == "flow":
            # one t per clip, shared by both branches; noise drawn from (seed, step) like the batch
            feeds, v_occ, v_mask = flow.training_inputs(batch, torch.Generator().manual_seed(args.seed * 1_000_003 + step))
            outp = model(batch["images"], batch["intrinsics"], batch["valid"], **feeds)
            ls = flow_losses(outp, batch, v_occ, v_mask)
            monitored = flow.estimate_x1(outp, feeds)
        else:
            outp = model(batch["images"], batch["intrinsics"], batch["valid"])
            ls = losses(outp, batch)
            monitored = outp
        opt.zero_grad(set_to_none=True)
        ls["total"].backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        step += 1
        wall = wall0 + time.time() - t0
        row = {"step": step, "wall_s": round(wall, 1), "lr": f"{lr:.2e}", "clips_available": len(shards),
               **{k: f"{float(v.detach()):.4f}" for k, v in ls.items()}, **{k: f"{v:.4f}" for k, v in batch_metrics(monitored, batch).items()}}
        log.write(row)
        if step % 20 == 0 or step == 1:
            print(" ".join(f"{k}={row[k]}" for k in ("step", "wall_s", "total", "occ_iou", "amodal_iou", "rot_deg")), flush=True)
        stop = (args.max_minutes and (time.time() - t0) > 60 * args.max_minutes) or step == args.stop_after
        if step % args.ckpt_every == 0 or step == args.steps or stop:
            save_checkpoint(ckpt_path, model, opt, step, cfg, run_facts(args, wall))
        if stop:
            print(f"stopping at step {step}")
            break
    log.close()
    save_checkpoint(ckpt_path, model, opt, step, cfg, run_facts(args, wall0 + time.time() - t0))
    print(f"done: step {step}, checkpoint {ckpt_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
