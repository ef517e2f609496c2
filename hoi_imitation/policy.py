"""A trained policy as shipped: MLP weights in safetensors + a JSON card of how to feed it
(observation normalisation, sizes, the task settings it was trained with)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from hoi_perception.atomic_files import atomic_write

WEIGHTS = "policy.safetensors"
CONFIG = "policy.json"


def export_policy(model, obs_mean: np.ndarray, obs_var: np.ndarray, out_dir: Path, meta: dict) -> Path:
    """Actor of an SB3 PPO model (mlp_extractor.policy_net + action_net) to safetensors, fp32."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sd = {}
    layers = []
    for i, mod in enumerate(model.policy.mlp_extractor.policy_net):
        if isinstance(mod, torch.nn.Linear):
            sd[f"hidden.{len(layers)}.weight"] = mod.weight.detach().float().contiguous()
            sd[f"hidden.{len(layers)}.bias"] = mod.bias.detach().float().contiguous()
            layers.append(int(mod.out_features))
    sd["out.weight"] = model.policy.action_net.weight.detach().float().contiguous()
    sd["out.bias"] = model.policy.action_net.bias.detach().float().contiguous()
    sd["obs_mean"] = torch.as_tensor(np.asarray(obs_mean, np.float32))
    sd["obs_var"] = torch.as_tensor(np.asarray(obs_var, np.float32))
    act = type(model.policy.activation_fn()).__name__
    atomic_write(out_dir / WEIGHTS, lambda p: save_file(sd, p))
    cfg = dict(meta, hidden=layers, activation=act, obs_clip=10.0, obs_eps=1e-8)
    atomic_write(out_dir / CONFIG, lambda p: Path(p).write_text(json.dumps(cfg, indent=2)))
    return out_dir / WEIGHTS


class Policy:
    """Deterministic actor (the Gaussian mean)."""

    def __init__(self, path: str | Path):
        p = Path(path)
        d = p if p.is_dir() else p.parent
        if not (d / WEIGHTS).is_file():
            raise FileNotFoundError(f"no {WEIGHTS} in {d}")
        self.meta = json.loads((d / CONFIG).read_text())
        sd = load_file(str(d / WEIGHTS))
        act = {"Tanh": torch.nn.Tanh, "ReLU": torch.nn.ReLU, "ELU": torch.nn.ELU}[self.meta["activation"]]
        mods, i = [], 0
        while f"hidden.{i}.weight" in sd:
            w = sd[f"hidden.{i}.weight"]
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data, lin.bias.data = w, sd[f"hidden.{i}.bias"]
            mods += [lin, act()]
            i += 1
        out = torch.nn.Linear(sd["out.weight"].shape[1], sd["out.weight"].shape[0])
        out.weight.data, out.bias.data = sd["out.weight"], sd["out.bias"]
        self.net = torch.nn.Sequential(*mods, out).eval()
        self.mean, self.var = sd["obs_mean"].numpy(), sd["obs_var"].numpy()

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.clip((obs - self.mean) / np.sqrt(self.var + self.meta["obs_eps"]), -self.meta["obs_clip"], self.meta["obs_clip"])
        with torch.no_grad():
            return self.net(torch.as_tensor(x, dtype=torch.float32)).numpy()
