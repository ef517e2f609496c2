"""The shipped spatial prior (`models/spatialprior`): scores where an object sits relative to a body.

log p(layout of the object's keypoints | body layout, viewport, class, size), averaged over a ring of
virtual viewports about the body (`layout.ring_viewports`). The object's keypoints are the 8 corners
of its template's bounding box and its centroid (`ObjectAsset.keypoints`, template frame): the same
for every template. An object with no template (a reconstructed mesh, a user's id the prior has no
class for) has no keypoints the flow knows: `unavailable` says so and the fit runs without the prior.

Classes: the object kind (procedural objects by their generator, YCB objects by what they are); a
kind the flow never saw in training gets no score (`unavailable`), never a guess.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import layout
from .flow import ConditionalFlow, config_from

N_OBJECT_KEYPOINTS = 9
YCB_KINDS = {"003_cracker_box": "box", "004_sugar_box": "box", "006_mustard_bottle": "bottle",
             "010_potted_meat_can": "box", "011_banana": "banana", "019_pitcher_base": "pitcher",
             "021_bleach_cleanser": "bottle", "025_mug": "mug", "035_power_drill": "drill", "037_scissors": "scissors"}


def object_kind(object_id: str) -> str | None:
    """The kind of a library object id (``proc_chair_0_3`` -> chair, ``025_mug`` -> mug), else None."""
    if object_id.startswith("proc_"):
        return object_id.split("_")[1]
    return YCB_KINDS.get(object_id)


def condition(body_uv: torch.Tensor, cameras: torch.Tensor, one_hot: torch.Tensor, extents: torch.Tensor) -> torch.Tensor:
    """The flow's condition: the body's layout (..., 21, 2), the viewport (..., 3), the object's kind
    (..., K one-hot) and its template's extents (..., 3) metres -> (..., 42 + 3 + K + 3)."""
    lead = body_uv.shape[:-2]
    return torch.cat([body_uv.reshape(*lead, -1), cameras / layout.CAMERA_SCALE, one_hot, torch.log(extents)], -1)


def condition_size(n_kinds: int) -> int:
    return 2 * len(layout.LAYOUT_JOINTS) + 3 + n_kinds + 3


def _occlusion_maps(path: Path) -> dict[str, np.ndarray]:
    """The mean occlusion maps (`training/occlusion.py`) by kind; none where the file is missing."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as z:
            return {str(k): z["body"][i].astype(np.float64) for i, k in enumerate(z["kinds"])}
    except (OSError, ValueError, KeyError) as exc:
        raise PriorUnavailable(f"occlusion maps {path} are unreadable: {exc}") from exc


class PriorUnavailable(RuntimeError):
    """The model files are missing or unreadable."""


@dataclass
class Arrangement:
    """One body and one object, for scoring: joints (22, 3) and object keypoints (K, 9, 3) in one frame
    (the camera's), the object's class and its template's extents (3,) metres."""

    joints: torch.Tensor
    object_keypoints: torch.Tensor
    kind: str
    extents: np.ndarray


class SpatialPrior:
    def __init__(self, flow: ConditionalFlow, kinds: list[str], card: dict,
                 occlusion: dict[str, np.ndarray] | None = None) -> None:
        self.flow = flow.eval()
        self.kinds = list(kinds)
        self.card = card
        self.occlusion = occlusion or {}  # kind -> (431,) mean overlap of each body-subset vertex
        for p in self.flow.parameters():
            p.requires_grad_(False)

    @classmethod
    def load(cls, model_dir: Path) -> SpatialPrior:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        model_dir = Path(model_dir)
        cfg_path, weights = model_dir / "config.json", model_dir / "model.safetensors"
        if not cfg_path.is_file() or not weights.is_file():
            raise PriorUnavailable(f"spatial prior in {model_dir}: config.json or model.safetensors is missing")
        try:
            card = json.loads(cfg_path.read_text())
            flow = ConditionalFlow(config_from(card))
            state = load_file(str(weights))
            flow.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
        except (SafetensorError, OSError, ValueError, KeyError, RuntimeError) as exc:
            raise PriorUnavailable(f"spatial prior in {model_dir} is unreadable (truncated or another "
                                   f"version?): {str(exc)[:300]}") from exc
        return cls(flow, card["kinds"], card, _occlusion_maps(model_dir / "occlusion.npz"))

    def unavailable(self, object_id: str | None, extents=None) -> str | None:
        """Why this object cannot be scored (None: it can)."""
        if not object_id:
            return "the object has no template id (no keypoints the prior knows)"
        kind = object_kind(object_id)
        if kind is None:
            return f"object {object_id!r} has no kind the prior knows"
        if kind not in self.kinds:
            return f"the prior never saw a {kind} ({object_id!r}) in training"
        if extents is not None and not (np.all(np.isfinite(extents)) and np.all(np.asarray(extents) > 0)):
            return f"object {object_id!r} has degenerate extents {extents}"
        return None

    def context(self, body_uv: torch.Tensor, cameras: torch.Tensor, kind: str, extents) -> torch.Tensor:
        """(..., 21, 2) body layout, (..., 3) viewports -> (..., C) the flow's condition."""
        lead = body_uv.shape[:-2]
        one_hot = torch.zeros(len(self.kinds), dtype=body_uv.dtype)
        one_hot[self.kinds.index(kind)] = 1.0
        size = torch.as_tensor(np.array(extents, np.float64), dtype=body_uv.dtype)
        return condition(body_uv, cameras, one_hot.expand(*lead, -1), size.expand(*lead, 3))

    def log_prob(self, arrangement: Arrangement, cameras: torch.Tensor) -> torch.Tensor:
        """(K,) mean log-density per object dimension over the viewports (V, 3) for K object placements
        of one body; differentiable in the object keypoints."""
        return self.scorer(arrangement.joints, arrangement.kind, arrangement.extents, cameras)(
            arrangement.object_keypoints)

    def scorer(self, joints: torch.Tensor, kind: str, extents, cameras: torch.Tensor):
        """For one body (22, 3): a function of object keypoints (K, 9, 3) in the joints' frame -> (K,)
        mean log-density per dimension over the viewports (V, 3). What depends on the body alone (its
        frame, its layout, the flow's condition) is computed once."""
        origin, rot = layout.body_frame(joints.to(torch.float32))
        body = layout.to_body_frame(joints.to(torch.float32)[layout.LAYOUT_JOINTS, :], origin, rot)
        ctx = self.context(layout.project(body[None], cameras), cameras, kind, extents)  # (V, C)
        v, dim = len(cameras), self.flow.cfg.dim
        density = self.flow.density(ctx)

        def score(object_keypoints: torch.Tensor) -> torch.Tensor:
            obj = layout.to_body_frame(object_keypoints.to(torch.float32), origin, rot)  # (K, 9, 3)
            k = len(obj)
            uv = layout.project(obj[:, None], cameras[None]).reshape(k, v, dim)  # (K, V, 18)
            lp = torch.stack([density(uv[i]) for i in range(k)])
            return lp.mean(1) / dim

        return score
