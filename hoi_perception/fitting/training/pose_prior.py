"""Fit the body-pose prior (`fitting/pose_prior.py`) to real mocap and the engine's poses.

    hoi-perception synth --kind fullbody --n 600 --seed 901 --size 128 --workers 1 --out data/fb_prior901
    python -m hoi_perception.fitting.training.pose_prior --out hoi_perception/fitting/data \
        --engine data/fb_prior901            # optional: a data-engine set (its body joints only)

Sources: every clip in ../shared/data/mocap (CMU BVH, DeepMimic, SkillMimic ball play), through the
imitation package's loaders onto the canonical skeleton, resampled to 15 fps, and mirrored; plus
the engine's sampled poses where a set is given. 10 % of the clips (by a seeded draw) are held out
for the log-likelihood the card reports. EM with full covariances, floored so that no direction
is trusted below ~3 degrees.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from hoi_perception.fitting.pose_prior import FEATURE_SIZE, PosePrior, direction_features, mirror_features

FPS = 15.0
COVARIANCE_FLOOR = 0.05 ** 2  # per direction component: ~3 degrees


def mocap_files(root: Path) -> list[Path]:
    files = sorted(root.glob("cmu_131_bvh/scaled_*.bvh")) + sorted(root.glob("deepmimic/*.txt"))
    return files + sorted(root.glob("skillmimic_ballplay/*/*.pt"))


def clip_features(path: Path) -> np.ndarray:
    from hoi_imitation.loaders import load_clip

    clip = load_clip(path)
    if clip.fps > FPS * 1.5:
        clip = clip.resampled(FPS)
    f = direction_features(torch.as_tensor(clip.joint_pos, dtype=torch.float64))
    return torch.cat([f, mirror_features(f)]).numpy()


def engine_features(root: Path) -> np.ndarray:
    from hoi_perception.synth.dataset import HOIShardDataset

    data = HOIShardDataset(root, keys=["body_joints"])
    joints = torch.stack([data[i]["body_joints"] for i in range(len(data))]).double()
    f = direction_features(joints)
    return torch.cat([f, mirror_features(f)]).numpy()


def fit_gmm(x: np.ndarray, k: int, iters: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """EM for a full-covariance mixture: means (K, D), covariances (K, D, D), weights (K,), log-likelihoods."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    means = x[rng.choice(n, k, replace=False)]
    covs = np.repeat(np.cov(x.T)[None] + COVARIANCE_FLOOR * np.eye(d), k, 0)
    weights = np.full(k, 1.0 / k)
    history = []
    for _ in range(iters):
        log_r = np.stack([_log_gauss(x, means[j], covs[j]) for j in range(k)], 1) + np.log(weights)
        top = log_r.max(1, keepdims=True)
        ll = top[:, 0] + np.log(np.exp(log_r - top).sum(1))
        history.append(float(ll.mean()))
        r = np.exp(log_r - ll[:, None])
        nk = r.sum(0) + 1e-9
        weights = nk / n
        means = (r.T @ x) / nk[:, None]
        for j in range(k):
            c = x - means[j]
            covs[j] = (r[:, j, None] * c).T @ c / nk[j] + COVARIANCE_FLOOR * np.eye(d)
    return means, covs, weights, history


def _log_gauss(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, (x - mean).T)
    return -0.5 * (z * z).sum(0) - np.log(np.diag(chol)).sum() - 0.5 * len(mean) * np.log(2 * np.pi)


def to_prior(means, covs, weights) -> PosePrior:
    precision_chol = np.stack([np.linalg.cholesky(np.linalg.inv(c)) for c in covs])
    return PosePrior(torch.as_tensor(means), torch.as_tensor(precision_chol), torch.as_tensor(np.log(weights)))


def main(argv=None) -> int:
    from hoi_perception.atomic_files import atomic_write_bytes
    from hoi_perception.paths import shared_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--mocap", default=str(shared_data_dir() / "mocap"))
    ap.add_argument("--engine", default=None, help="a data-engine set whose body joints join the mocap")
    ap.add_argument("--components", type=int, default=12)
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    t0 = time.time()
    files = mocap_files(Path(args.mocap))
    if not files:
        raise SystemExit(f"no mocap clips under {args.mocap}")
    rng = np.random.default_rng(args.seed)
    held = set(rng.choice(len(files), max(1, len(files) // 10), replace=False).tolist())
    train, test, manifest = [], [], hashlib.sha256()
    for i, f in enumerate(files):
        manifest.update(f"{f.relative_to(args.mocap)}:{f.stat().st_size}\n".encode())
        (test if i in held else train).append(clip_features(f))
    sources = {"mocap_clips": len(files) - len(held), "mocap_frames": int(sum(len(a) for a in train))}
    if args.engine:
        eng = engine_features(Path(args.engine))
        manifest.update(json.dumps(json.loads((Path(args.engine) / "manifest.json").read_text()).get(
            "content_hash", args.engine)).encode())
        train.append(eng)
        sources["engine_poses"] = len(eng)
    x, x_test = np.concatenate(train), np.concatenate(test)
    means, covs, weights, history = fit_gmm(x, args.components, args.iters, args.seed)
    prior = to_prior(means, covs, weights)
    with torch.no_grad():
        nll_test = float(prior.feature_nll(torch.as_tensor(x_test)).mean())
        nll_train = float(prior.feature_nll(torch.as_tensor(x)).mean())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file

    save_file({"means": prior.means, "precision_chol": prior.precision_chol,
               "log_weights": torch.as_tensor(np.log(weights), dtype=torch.float32)}, str(out / "pose_prior.safetensors"))
    card = {"name": "pose_prior", "task": "fitting_term", "feature": f"{FEATURE_SIZE} limb directions (pose_prior.py)",
            "components": args.components, "em_iterations": args.iters, "seed": args.seed,
            "data_manifest_sha256": manifest.hexdigest()[:16], "sources": sources,
            "em_log_likelihood_first_last": [round(history[0], 3), round(history[-1], 3)],
            "held_out_clips": len(held),
            "held_out_frames": len(x_test), "nll_per_dim_train": round(nll_train, 4),
            "nll_per_dim_held_out": round(nll_test, 4), "hardware": "CPU", "seconds": round(time.time() - t0, 1)}
    import yaml

    # not a model_card.yaml: a fitting term shipped with the package, not a reconstructor to load
    atomic_write_bytes(out / "pose_prior.card.yaml", yaml.safe_dump(card, sort_keys=False).encode())
    print(json.dumps(card))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
