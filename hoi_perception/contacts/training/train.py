"""Train the contact network (`contacts/net.py`) on the engine's contact labels.

    python -m hoi_perception.contacts.training.train --data data/fb_seg902,data/fb_prior901,data/fb_contact903 \
        --out runs/contacts2 --steps 2500 --lr 7e-4 [--init CHECKPOINT]

Losses (paper 003, eqs. 3-6): on the canvases' covered pixels a focal BCE and a Dice loss against the
labels painted into each view; on the lifted per-vertex logits the 3D consistency losses, a focal BCE
with a small sparsity term for the body and Dice + MSE for the object. A tenth of the scenes (by a
seeded permutation) is kept for validation: per-scene body contact F1 (DAMON definition) and the
threshold that maximises it, which the release stores. Checkpoints every ``--ckpt-every`` steps
(<out>/last.pt, <out>/best.pt), rows in <out>/log.csv; rerunning the command resumes.
``--release DIR`` writes best.pt as the shipped model (fp16 safetensors, config.json and the ONNX
export) and stops.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from hoi_perception.training_log import TrainingLog, save_training_state

from ..canonical import OBJECT_VIEWS, body_canvas, camera_codes, star_body
from ..net import ContactNet, ContactNetConfig
from .data import load_contact_scenes, object_canvases
from .network_evidence import dequantize, network_evidence

FIELDS = ["step", "loss", "val_f1", "val_threshold", "val_object_f1", "lr", "wall_s"]
VAL_SHARE = 0.1
KIND_DROP = 0.2
JOINT_NOISE = 0.005  # crop units, on top of the network's own errors


def focal_bce(logits, target, valid=None, alpha: float = 0.75, gamma: float = 2.0):
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    pt = p * target + (1 - p) * (1 - target)
    w = (alpha * target + (1 - alpha) * (1 - target)) * (1 - pt) ** gamma
    loss = w * ce
    if valid is None:
        return loss.mean()
    return (loss * valid).sum() / valid.sum().clamp(min=1.0)


def dice(prob, target, valid=None, eps: float = 1.0):
    dims = tuple(range(1, prob.dim()))
    if valid is not None:
        prob, target = prob * valid, target * valid
    return (1 - (2 * (prob * target).sum(dims) + eps) / (prob.sum(dims) + target.sum(dims) + eps)).mean()


def body_targets(labels, owner, weight):
    """(B, V) labels -> (B, J, S, S) painted into the body canvas (barycentric mix, 0 off the body)."""
    return (labels[:, owner.clamp(min=0)] * weight).sum(-1)


def losses(out, body_lab, obj_lab, body_pix_lab, obj_pix_lab, body_valid, obj_valid) -> torch.Tensor:
    l2d = (focal_bce(out["body_pixels"], body_pix_lab, body_valid) + dice(torch.sigmoid(out["body_pixels"]), body_pix_lab, body_valid)
           + focal_bce(out["object_pixels"], obj_pix_lab, obj_valid)
           + dice(torch.sigmoid(out["object_pixels"]), obj_pix_lab, obj_valid))
    pb, po = torch.sigmoid(out["body_logits"]), torch.sigmoid(out["object_logits"])
    l3d = (focal_bce(out["body_logits"], body_lab) + dice(pb, body_lab) + 0.01 * pb.mean()
           + dice(po, obj_lab) + F.mse_loss(po, obj_lab))
    return l2d + l3d


def f1_per_scene(prob, gt, threshold: float) -> torch.Tensor:
    """DAMON per-scene F1 (no predicted or no true contact: 0)."""
    pred = prob >= threshold
    tp = (pred & gt).sum(1).float()
    npred, ngt = pred.sum(1).float(), gt.sum(1).float()
    f1 = 2 * tp / (npred + ngt).clamp(min=1)
    return torch.where((npred > 0) & (ngt > 0), f1, torch.zeros_like(f1))


class Batcher:
    """Network inputs and targets for rows of the loaded scenes."""

    def __init__(self, data: dict, canv: dict, kinds: tuple[str, ...], body) -> None:
        self.d, self.c, self.kinds = data, canv, kinds
        pos = {i: n for n, i in enumerate(canv["ids"])}
        self.obj_row = torch.tensor([pos[i] for i in data["object_id"]])
        kind_of = [canv["kinds"][pos[i]] for i in data["object_id"]]
        self.kind = torch.tensor([kinds.index(k) if k in kinds else len(kinds) for k in kind_of])
        self.body_owner = torch.as_tensor(body.pixel_owner)
        self.body_weight = torch.as_tensor(body.pixel_weight)
        self.body_valid = torch.as_tensor(body.images[:, 3])

    def __call__(self, rows, gen: torch.Generator | None = None) -> tuple[tuple, dict]:
        d, c = self.d, self.c
        kind = self.kind[rows].clone()
        joints = d["net_joints"][rows].clone()
        if gen is not None:  # training: drop the kind now and then (class-agnostic), jitter the joints
            kind[torch.rand(len(rows), generator=gen) < KIND_DROP] = len(self.kinds)
            joints += JOINT_NOISE * torch.randn(joints.shape, generator=gen)
        one_hot = F.one_hot(kind, len(self.kinds) + 1).float()
        o = self.obj_row[rows]
        distinct, object_of = torch.unique(o, return_inverse=True)
        inputs = (d["image"][rows].float(), joints, one_hot, c["images"][distinct], c["index"][o], c["weight"][o],
                  dequantize(d["net_body"][rows]), dequantize(d["net_object"][rows]), object_of)
        body_lab = d["body_contact"][rows].float()
        obj_lab = d["object_contact"][rows]
        owner = c["owner"][o]
        obj_pix = torch.gather(obj_lab, 1, owner.clamp(min=0).flatten(1)).reshape(owner.shape) * (owner >= 0)
        targets = {"body_lab": body_lab, "obj_lab": obj_lab,
                   "body_pix_lab": body_targets(body_lab, self.body_owner, self.body_weight),
                   "obj_pix_lab": obj_pix, "body_valid": self.body_valid.expand(len(rows), -1, -1, -1),
                   "obj_valid": (owner >= 0).float()}
        return inputs, targets


def sample_rows(train_rows: np.ndarray, obj_row: torch.Tensor, batch: int, gen: torch.Generator,
                per_object: int = 3) -> torch.Tensor:
    """A batch of `batch` training rows, `per_object` sharing each object: each object's render features are
    made once per batch (the object canvases dominate a step's time otherwise)."""
    rows = torch.as_tensor(train_rows)
    seeds = rows[torch.randint(len(rows), (batch // per_object,), generator=gen)]
    out = []
    for r in seeds:
        same = rows[obj_row[rows] == obj_row[r]]
        out.append(same[torch.randint(len(same), (per_object,), generator=gen)])
    return torch.cat(out)


def validate(net, batcher: Batcher, rows: np.ndarray, bs: int = 32) -> dict:
    net.eval()
    probs, gts, ofs = [], [], []
    with torch.no_grad():
        for s in range(0, len(rows), bs):
            r = torch.as_tensor(rows[s:s + bs])
            inputs, t = batcher(r)
            out = net(*inputs)
            probs.append(torch.sigmoid(out["body_logits"]))
            gts.append(t["body_lab"] > 0.5)
            ofs.append(f1_per_scene(torch.sigmoid(out["object_logits"]), t["obj_lab"] > 0.5, 0.5))
    net.train()
    p, g = torch.cat(probs), torch.cat(gts)
    scores = {round(float(th), 2): float(f1_per_scene(p, g, float(th)).mean()) for th in np.arange(0.2, 0.81, 0.05)}
    best = max(scores, key=scores.get)
    return {"f1": scores[best], "threshold": round(best, 2), "f1_at_0.5": scores.get(0.5),
            "object_f1": float(torch.cat(ofs).mean())}


def release(ckpt: Path, out: Path) -> dict:
    """best.pt as the shipped model: fp16 safetensors (integer lift tables as they are) and config.json."""
    from safetensors.torch import save_file

    from hoi_perception.atomic_files import atomic_write, atomic_write_bytes

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    facts = json.loads(state["facts"])
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state["model"].items()}
    atomic_write(out / "model.safetensors", lambda tmp: save_file(weights, tmp))
    atomic_write_bytes(out / "config.json", json.dumps(facts, indent=1).encode())
    from ..model import export_onnx

    export_onnx(out)  # from the fp16-rounded weights just written: ONNX Runtime runs what torch runs
    return facts


def build_net(kinds: tuple[str, ...]) -> ContactNet:
    body = body_canvas(*star_body())
    cfg = ContactNetConfig(kinds=kinds)
    return ContactNet(cfg, body.images, body.cameras, body.lift.index, body.lift.weight, camera_codes(OBJECT_VIEWS)), body


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="full-body shard folders (training split), separated by commas")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-every", type=int, default=250)
    ap.add_argument("--max-items", type=int, default=None)
    ap.add_argument("--fullbody", default="models/fullbody", help="the full-body model whose predictions are the "
                    "contact network's body evidence")
    ap.add_argument("--init", default=None, help="start from this checkpoint's weights (missing layers start fresh)")
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
    t0 = time.time()
    data = load_contact_scenes(roots, max_items=args.max_items)
    # the body the pipeline would have: the shipped full-body network's (network_evidence.py)
    ev = [network_evidence(r, Path(args.fullbody), out / "network_evidence") for r in roots]
    if args.max_items is not None:  # the scenes load_contact_scenes read: shard indices below max_items
        ev = [{k: v[e["index"] < args.max_items] for k, v in e.items()} for e in ev]
    if sum(len(e["index"]) for e in ev) != data["meta"]["count"]:
        raise SystemExit("the network evidence and the scenes differ in count")
    for key, name in (("joints", "net_joints"), ("body", "net_body"), ("object", "net_object")):
        data[name] = torch.as_tensor(np.concatenate([e[key] for e in ev]))
    data["net_joints"] = data["net_joints"].float()
    from hoi_perception.assets import object_library

    lib = object_library()
    canv = object_canvases(sorted(set(lib.ids("train")) | set(lib.ids("heldout"))))
    kinds = tuple(sorted({k for i, k in zip(canv["ids"], canv["kinds"]) if k and i in set(lib.ids("train"))}))
    net, body = build_net(kinds)
    batcher = Batcher(data, canv, kinds, body)
    print(f"{data['meta']['count']} scenes loaded in {time.time() - t0:.0f} s; kinds {kinds}", flush=True)
    n = data["meta"]["count"]
    order = np.random.default_rng(args.seed).permutation(n)
    val_rows, train_rows = np.sort(order[:int(VAL_SHARE * n)]), np.sort(order[int(VAL_SHARE * n):])
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    facts = {"config": net.cfg.to_dict(), "data": data["meta"]["sets"], "data_manifest_sha256": data["meta"]["manifest_sha256"],
             "scenes_train": len(train_rows), "scenes_val": len(val_rows), "seed": args.seed, "batch": args.batch,
             "hardware": "2 CPU cores (x86-64), no GPU", "parameters": sum(p.numel() for p in net.parameters())}
    last, step, best = out / "last.pt", 0, -1.0
    gen = torch.Generator().manual_seed(args.seed)
    if args.init and not last.is_file():
        missing, _ = net.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True)["model"], strict=False)
        facts["init"] = {"from": str(args.init), "new_layers": sorted({k.split(".")[0] for k in missing})}
        print(f"started from {args.init}; new: {facts['init']['new_layers']}", flush=True)
    if last.is_file():
        state = torch.load(last, map_location="cpu", weights_only=True)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
        best = json.loads(state["facts"]).get("best_val_f1", best)
        gen.manual_seed(args.seed + step)
        print(f"resumed at step {step}")
    log = TrainingLog(out / "log.csv", FIELDS, resume_at=step if last.is_file() else None)
    t0 = time.time()
    net.train()
    while step < args.steps:
        lr = float(args.lr * 0.5 * (1 + np.cos(np.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        rows = sample_rows(train_rows, batcher.obj_row, args.batch, gen)
        inputs, t = batcher(rows, gen)
        loss = losses(net(*inputs), t["body_lab"], t["obj_lab"], t["body_pix_lab"], t["obj_pix_lab"], t["body_valid"],
                      t["obj_valid"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        if step % 25 == 0:
            print(f"step {step}: loss {float(loss.detach()):.4f} {time.time() - t0:.0f} s", flush=True)
        if step % args.ckpt_every == 0 or step == args.steps:
            v = validate(net, batcher, val_rows)
            log.write({"step": step, "loss": float(loss.detach()), "val_f1": v["f1"], "val_threshold": v["threshold"],
                       "val_object_f1": v["object_f1"], "lr": lr, "wall_s": time.time() - t0})
            facts["train_steps"] = step
            if v["f1"] > best:
                best = v["f1"]
                facts["validation"] = v
                save_training_state(out / "best.pt", net, opt, step, {**facts, "best_val_f1": best})
            save_training_state(last, net, opt, step, {**facts, "best_val_f1": best})
            print(f"step {step}: val {v} (best {best:.3f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
