"""CSV training log shared by the training CLIs, made for resumable runs.

A run killed between two checkpoints has already logged the steps after its last checkpoint; the
resumed run trains those steps again. Opening the log at the checkpoint's step first drops the rows
past it (atomic rewrite), so every step appears once and the log matches the weights."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from hoi_perception.atomic_files import atomic_write_bytes


class TrainingLog:
    """`resume_at=None`: a fresh run, the file is started anew with `fields` as header. Otherwise rows whose
    `step_key` exceeds `resume_at` are dropped and new rows are appended under the file's own header
    (an older run may have logged fewer columns; extra keys are ignored)."""

    def __init__(self, path: str | Path, fields: list[str], resume_at: int | None = None, step_key: str = "step"):
        self.path = Path(path)
        header = None
        if resume_at is not None and self.path.is_file():
            header = _truncate_after(self.path, step_key, resume_at)
        self.fields = header or list(fields)
        # append under the kept rows; a fresh run (or an empty log) starts the file with a header
        self._f = open(self.path, "a" if header else "w", newline="")
        self._w = csv.DictWriter(self._f, fieldnames=self.fields, extrasaction="ignore")
        if not header:
            self._w.writeheader()
            self._f.flush()

    def write(self, row: dict) -> None:
        self._w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        self._f.flush()  # a killed run keeps every row it logged

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _truncate_after(path: Path, step_key: str, last_step: int) -> list[str] | None:
    """Rewrite `path` without the rows logged after `last_step`; return its header (None if empty)."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        if not header:
            return None
        # a row cut short by a kill has missing fields (None): dropped with the rows past the checkpoint
        kept = [r for r in reader if None not in r.values() and _step_of(r.get(step_key)) <= last_step]
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=header)
    w.writeheader()
    w.writerows(kept)
    atomic_write_bytes(path, buf.getvalue().encode())
    return list(header)


def _step_of(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def save_checkpoint(path: str | Path, state: dict) -> None:
    """`torch.save(state)` to `path` atomically (a killed run never leaves half a checkpoint); load it
    with ``torch.load(path, weights_only=True)``: tensors, numbers, strings and containers of them only."""
    import os

    import torch

    path = Path(path)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def save_training_state(path: str | Path, model, opt, step: int, facts: dict, **extra) -> None:
    """A resumable checkpoint: the model's and optimiser's state, the step and the run's facts (JSON), plus
    `extra` entries (tensors or strings), written atomically (`save_checkpoint`)."""
    import json

    import torch

    save_checkpoint(path, {"model": model.state_dict(), "opt": opt.state_dict(), "step": torch.tensor(step),
                           "facts": json.dumps(facts), **extra})
