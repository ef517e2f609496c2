"""The shipped contact model (`models/contacts`): per-vertex body and object contacts from one crop.

Inputs are what the full-body pipeline already has: the network's crop (RGB and the person and object
masks), the posed body (the fitted one, or the network's: its 64 joints and full mesh) and the placed
object (its 64 template subset vertices), and the object's library id or kind and its template (surface
points and subset vertices). A kind the
model never saw in training, or none, runs class-agnostic and says so (`ContactResult.class_agnostic`);
an object without a template gets no contacts (`ContactsUnavailable`), never contacts invented on an
absent object.

Backends: torch (the safetensors weights) or ONNX Runtime (`model.onnx`, exported by `export_onnx`),
through the shared backend interface.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hoi_perception.spatialprior.prior import object_kind

from .canonical import OBJECT_LIFT_WIDTH, OBJECT_SIZE, OBJECT_VIEWS, Canvas, object_canvas
from .evidence import crop_pixels, vertex_evidence
from .net import N_EVIDENCE, N_JOINTS, ContactNet, ContactNetConfig, kind_one_hot

N_BODY_VERTICES = 13718  # anny's full mesh

INPUTS = ("image", "joints_2d", "kind", "object_images", "object_index", "object_weight", "body_evidence",
          "object_evidence")
OUTPUTS = ("body_contact", "object_contact")


class ContactsUnavailable(RuntimeError):
    """The model files are missing or unreadable, or the object has no template."""


@dataclass
class ContactResult:
    """Contact scores in [0, 1], recentred so that 0.5 is the model's threshold (`recentre`): a vertex at or
    above 0.5 is in contact, as with every other contact output of the project."""

    body: np.ndarray     # (13718,) per anny full-mesh vertex
    object: np.ndarray   # (64,) per template subset vertex
    kind: str | None     # the kind the model was conditioned on; None: class-agnostic
    class_agnostic: bool
    note: str = ""
    threshold: float = 0.5

    @property
    def body_mask(self) -> np.ndarray:
        return self.body >= self.threshold

    @property
    def object_mask(self) -> np.ndarray:
        return self.object >= self.threshold


def recentre(p: np.ndarray, threshold: float) -> np.ndarray:
    """Monotone piecewise-linear map of probabilities taking `threshold` to 0.5 (0 and 1 stay put)."""
    p = np.asarray(p, np.float32)
    t = float(np.clip(threshold, 1e-3, 1 - 1e-3))
    return np.where(p < t, 0.5 * p / t, 0.5 + 0.5 * (p - t) / (1 - t)).astype(np.float32)


def joints_in_crop(joints: np.ndarray, hand_joints: np.ndarray, intrinsics: np.ndarray, size: int) -> np.ndarray:
    """Camera-frame body (22, 3) and hand (2, 21, 3) joints -> (64, 2) pixels of the crop whose intrinsics
    are `intrinsics` ([fx, fy, cx, cy] / size, `fullbody.preprocess.Crop`)."""
    p = np.concatenate([np.asarray(joints, np.float64).reshape(-1, 3), np.asarray(hand_joints, np.float64).reshape(-1, 3)])
    return crop_pixels(p, intrinsics, size)[0]


class _Probabilities(torch.nn.Module):
    """The network with named inputs and sigmoid outputs, for the backends and the ONNX export."""

    def __init__(self, net: ContactNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image, joints_2d, kind, object_images, object_index, object_weight, body_evidence, object_evidence):
        out = self.net(image, joints_2d, kind, object_images, object_index, object_weight, body_evidence, object_evidence)
        return {"body_contact": torch.sigmoid(out["body_logits"]), "object_contact": torch.sigmoid(out["object_logits"])}


def load_network(model_dir: str | Path) -> tuple[ContactNet, dict]:
    """The network (float32, eval) and its config.json facts; ContactsUnavailable with the reason otherwise."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    d = Path(model_dir)
    cfg_path, weights = d / "config.json", d / "model.safetensors"
    for p in (cfg_path, weights):
        if not p.is_file():
            raise ContactsUnavailable(f"contact model file missing: {p}")
    try:
        facts = json.loads(cfg_path.read_text())
        cfg = ContactNetConfig.from_dict(facts["config"])
        state = load_file(str(weights))
        net = ContactNet(cfg, state["body_images"].float(), state["body_cameras"].float(), state["body_index"],
                         state["body_weight"].float(), state["object_cameras"].float())
        net.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in state.items()})
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as exc:
        raise ContactsUnavailable(f"contact model {d} is unreadable ({type(exc).__name__}: {exc})") from exc
    return net.eval(), facts


class ContactModel:
    """Loads `models/contacts` once; `predict` per frame. Object canvases are cached per object id."""

    def __init__(self, model_dir: str | Path, backend: str = "torch", threads: int = 1) -> None:
        from hoi_perception.backends.factory import load_backend

        self.dir = Path(model_dir)
        net, self.facts = load_network(self.dir)
        self.kinds: tuple[str, ...] = net.cfg.kinds
        self.crop = net.cfg.crop
        self.threshold = float(self.facts.get("validation", {}).get("threshold", 0.5))
        self._canvases: dict[str, Canvas] = {}
        if backend == "onnxruntime":
            self.backend = load_backend("onnxruntime", onnx_path=self.dir / "model.onnx", threads=threads)
        else:
            self.backend = load_backend("torch", torch_module=_Probabilities(net), input_names=INPUTS,
                                        output_names=OUTPUTS, threads=threads)

    def canvas(self, object_id: str, surface_points: np.ndarray | None, subset_vertices: np.ndarray | None) -> Canvas:
        if object_id not in self._canvases:
            if surface_points is None or subset_vertices is None or len(surface_points) == 0:
                raise ContactsUnavailable(f"object {object_id!r} has no template: no object contacts can be placed")
            self._canvases[object_id] = object_canvas(surface_points, subset_vertices, OBJECT_SIZE)
        return self._canvases[object_id]

    def predict(self, image: np.ndarray, intrinsics: np.ndarray, joints: np.ndarray, hand_joints: np.ndarray,
                body_vertices: np.ndarray, object_points: np.ndarray, object_id: str, surface_points=None,
                subset_vertices=None, kind: str | None = None) -> ContactResult:
        """One crop and the posed body and object in the camera frame.

        image (5, S, S) and intrinsics ([fx, fy, cx, cy] / S): the full-body network's crop
        (`fullbody.preprocess.Crop`); joints (22, 3) and hand_joints (2, 21, 3), body_vertices (13718, 3):
        the body the pipeline has; object_points (64, 3): the object's template subset vertices as placed;
        the object's id (and its template the first time an id is seen); `kind` overrides the id's kind."""
        image = np.asarray(image, np.float32)
        if image.shape != (5, self.crop, self.crop):
            raise ValueError(f"contact model: the crop must be (5, {self.crop}, {self.crop}), got {image.shape}")
        arrays = {"joints": (joints, (22, 3)), "hand joints": (hand_joints, (2, 21, 3)),
                  "body vertices": (body_vertices, (N_BODY_VERTICES, 3)), "object points": (object_points, (64, 3))}
        for name, (a, shape) in arrays.items():
            a = np.asarray(a)
            if a.shape != shape or not np.isfinite(a).all():
                raise ValueError(f"contact model: {name} must be {shape} finite camera-frame points, got {a.shape}")
        j2d = joints_in_crop(joints, hand_joints, intrinsics, self.crop)
        c = self.canvas(object_id, surface_points, subset_vertices)
        kind = kind or object_kind(object_id)
        known = kind in self.kinds
        out = self.backend.run({
            "image": image[None], "joints_2d": (j2d / self.crop)[None].astype(np.float32),
            "kind": kind_one_hot(self.kinds, kind if known else None).numpy()[None],
            "object_images": c.images[None], "object_index": c.lift.index[None], "object_weight": c.lift.weight[None],
            "body_evidence": vertex_evidence(body_vertices, intrinsics, image[4])[None],
            "object_evidence": vertex_evidence(object_points, intrinsics, image[3])[None]})
        note = "" if known else (f"object kind {kind!r} unknown to the contact model: class-agnostic contacts" if kind
                                 else f"object {object_id!r} has no kind: class-agnostic contacts")
        return ContactResult(recentre(out["body_contact"][0], self.threshold),
                             recentre(out["object_contact"][0], self.threshold), kind if known else None, not known, note)


def export_onnx(model_dir: str | Path) -> Path:
    """Write `model.onnx` beside the weights (the body canvas's render features fold into constants)."""
    from hoi_perception.backends.export import export_onnx as export

    net, _ = load_network(model_dir)
    j, s, w = len(OBJECT_VIEWS), OBJECT_SIZE, OBJECT_LIFT_WIDTH
    example = {"image": torch.zeros(1, 5, net.cfg.crop, net.cfg.crop), "joints_2d": torch.zeros(1, N_JOINTS, 2),
               "kind": torch.zeros(1, len(net.cfg.kinds) + 1), "object_images": torch.zeros(1, j, 4, s, s),
               "object_index": torch.zeros(1, 64, w, dtype=torch.long), "object_weight": torch.zeros(1, 64, w),
               "body_evidence": torch.zeros(1, N_BODY_VERTICES, N_EVIDENCE), "object_evidence": torch.zeros(1, 64, N_EVIDENCE)}
    return export(_Probabilities(net), example, Path(model_dir) / "model.onnx", OUTPUTS, opset=18)
