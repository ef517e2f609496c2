"""Stages with explicit inputs/outputs, the Reconstructor interface, and the model registry.

Model registry contract (the trained models implement it):

    models/<name>/model_card.yaml      # the model card, required
        name: <name>                   # must match the folder name
        task: fullbody | handobject
        format: python                 # the only format: a Reconstructor built by an entry point
        entry_point: hoi_perception.<...>.reconstructor:build   # build(model_dir, card, **options) ->
                                       # Reconstructor; only this package's builders (a model folder is data)
        # the rest is what that reconstructor reads (weights files, network config, settings);
        # the training record and metrics live beside it in provenance.yaml, never read here

`load_reconstructor(name, task)` resolves `name` as a folder path or as `<models_dir()>/<name>`,
validates the card and returns a ready Reconstructor, or raises ModelNotAvailable with a message
saying what is missing. Nothing falls back to a dummy model.
"""
from __future__ import annotations

import abc
import importlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml

from hoi_perception.pipeline.evidence import missing_evidence
from hoi_perception.pipeline.types import Frame, FullBodyResult, HandObjectResult, InputError

TASKS = ("fullbody", "handobject")
ENTRY_POINT_PACKAGE = "hoi_perception"
CARD_NAME = "model_card.yaml"


class ModelNotAvailable(RuntimeError):
    """No trained model can be loaded for a stage; the stage must not start."""


class TaskMismatch(ModelNotAvailable):
    """The model is for another task; `model_task` names it, so callers can say what to run instead."""

    def __init__(self, message: str, model_task: str) -> None:
        super().__init__(message)
        self.model_task = model_task


class InferenceError(RuntimeError):
    """A model produced an unusable output (NaN, wrong shape) for one frame."""


@runtime_checkable
class Stage(Protocol):
    """A pipeline step. `inputs`/`outputs` name the items it consumes and produces."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def process(self, item: Any) -> Any:
        """Consume one input item; return the output item or None when there is none yet."""

    def close(self) -> None:
        """Release resources; flush what is buffered."""


class Reconstructor(abc.ABC):
    """A trained model that turns camera frames into results.

    Implementations are stateful per stream (a hand-object model keeps its keyframe buffer)
    and are called from one thread at a time.
    """

    #: "fullbody" (returns FullBodyResult) or "handobject" (returns HandObjectResult)
    task: str = ""
    #: how many recent frames a result may draw on; a live node keeps that many for `observe`
    history: int = 1

    def __init__(self, name: str, card: dict) -> None:
        self.name = name
        self.card = card

    @abc.abstractmethod
    def reconstruct(self, frame: Frame) -> FullBodyResult | HandObjectResult | None:
        """Process one frame. Return a result, or None while no result exists yet (e.g. the
        keyframe buffer is still filling, or nobody is visible). Raise InputError for a frame
        that cannot be processed and InferenceError for an unusable model output."""

    def observe(self, frame: Frame) -> None:
        """A frame there was no time to reconstruct: a model with temporal state (keyframes) keeps it,
        so its next result draws on the newest frames; by default it is ignored."""

    def reset(self) -> None:
        """Forget per-stream state (keyframes, tracks)."""


class ReconstructionStage:
    """frame -> result, via a Reconstructor; a frame that cannot show anything (`evidence.py`) is
    refused with an InputError before the model sees it. The runner and the nodes both use it."""

    def __init__(self, reconstructor: Reconstructor) -> None:
        self.reconstructor = reconstructor
        self.name = f"{reconstructor.task}:{reconstructor.name}"
        self.inputs = ("frame",)
        self.outputs = (reconstructor.task,)

    def process(self, item: Frame):
        reason = missing_evidence(item)
        if reason is not None:
            raise InputError(f"frame {item.index}: {reason}")
        return self.reconstructor.reconstruct(item)

    def observe(self, item: Frame) -> None:
        """Hand a frame that will not be reconstructed to the model's history (frames without evidence
        never enter it)."""
        if missing_evidence(item) is None:
            self.reconstructor.observe(item)

    def close(self) -> None:
        self.reconstructor.reset()


# ---------------------------------------------------------------------------------------------
# registry


def _models_dir() -> Path:
    from hoi_perception.paths import models_dir

    return models_dir()


def resolve_model_dir(name: str) -> Path:
    """A model folder from a path or a name under the models folder."""
    if not name or not str(name).strip():
        raise ModelNotAvailable("no model configured (set the `model` parameter or --model to a trained model)")
    p = Path(name).expanduser()
    if p.is_dir() or "/" in str(name) or str(name).startswith("."):
        return p
    return _models_dir() / name


def read_model_card(model_dir: Path) -> dict:
    card_path = model_dir / CARD_NAME
    if not model_dir.is_dir():
        raise ModelNotAvailable(
            f"model folder {model_dir} does not exist; available models: {available_models() or 'none'}")
    if not card_path.is_file():
        raise ModelNotAvailable(f"{model_dir} has no {CARD_NAME}: not a trained model folder")
    try:
        card = yaml.safe_load(card_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ModelNotAvailable(f"model card {card_path} is not valid YAML: {exc}") from exc
    if not isinstance(card, dict):
        raise ModelNotAvailable(f"model card {card_path} must be a mapping")
    for key in ("name", "task", "format"):
        if key not in card:
            raise ModelNotAvailable(f"model card {card_path} lacks the required field {key!r}")
    if card["task"] not in TASKS:
        raise ModelNotAvailable(f"model card {card_path}: task {card['task']!r} is not one of {TASKS}")
    return card


def available_models(task: str | None = None) -> list[str]:
    """Names of model folders with a readable card (optionally for one task)."""
    root = _models_dir()
    names = []
    if root.is_dir():
        for d in sorted(root.iterdir()):
            card_path = d / CARD_NAME
            if not card_path.is_file():
                continue
            try:
                card = yaml.safe_load(card_path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError:
                continue
            if task is None or card.get("task") == task:
                names.append(d.name)
    return names


def load_reconstructor(name: str, task: str, **options) -> Reconstructor:
    """Load the trained model `name` for `task`; raise ModelNotAvailable when it cannot be."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    model_dir = resolve_model_dir(name)
    card = read_model_card(model_dir)
    if card["task"] != task:
        raise TaskMismatch(f"model {card['name']!r} is a {card['task']} model, not {task}", card["task"])
    fmt = card["format"]
    if fmt != "python":
        raise ModelNotAvailable(f"model {card['name']!r}: unknown format {fmt!r} (python)")
    entry = card.get("entry_point", "")
    module_name, _, func_name = str(entry).partition(":")
    if not module_name or not func_name:
        raise ModelNotAvailable(f"model {card['name']!r}: entry_point must be 'module:function', got {entry!r}")
    # a model folder is data: it may name a reconstructor builder of this package, never other code
    parts = module_name.split(".")
    if parts[0] != ENTRY_POINT_PACKAGE or parts[-1] != "reconstructor" or func_name != "build":
        raise ModelNotAvailable(f"model {card['name']!r}: entry_point {entry!r} is not a reconstructor builder of "
                                f"the installed {ENTRY_POINT_PACKAGE} package ({ENTRY_POINT_PACKAGE}.<...>."
                                f"reconstructor:build); model folders may only name those")
    try:
        factory = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise ModelNotAvailable(f"model {card['name']!r}: cannot import {entry}: {exc}") from exc
    try:
        recon = factory(model_dir, card, **options)
    except (ModelNotAvailable, InputError):
        raise
    except Exception as exc:  # noqa: BLE001 - a broken model folder must say so, not end in a traceback
        raise ModelNotAvailable(f"model {card['name']!r} could not be built by {entry}: "
                                f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(recon, Reconstructor) or recon.task != task:
        raise ModelNotAvailable(f"model {card['name']!r} did not produce a {task} Reconstructor")
    return recon
