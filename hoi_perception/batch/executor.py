"""Generic batch executor: independent items, one Ray task each, resumable, with a live report.

`run_batch(items, task, report_path, is_done=...)`:

- items already done (`is_done(item)`, checked here in the driver) are reported as skipped and
  never sent to the cluster; if every item is done no cluster is started at all;
- the others run as Ray remote tasks (`num_cpus` each) on a local cluster of `workers` CPUs, or on
  the existing cluster at `address`; results are collected as they finish (`ray.wait`);
- after every completion the report JSON is replaced atomically *before* the progress line is
  printed, so a killed batch always leaves a report that is true up to its last line;
- a task's exception becomes a failed entry with its message (and traceback in the report); it
  never stops the other items.

Ray is imported only when a cluster is needed, so importing this module costs nothing.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from hoi_perception.atomic_files import atomic_write_bytes

OK, SKIPPED, FAILED, PENDING = "ok", "skipped", "failed", "pending"
_LINE_MESSAGE_CHARS = 300  # the progress line stays one line; the report keeps the whole message


@dataclass(frozen=True)
class Item:
    """One unit of work: `id` names it in progress lines and the report, `payload` goes to the task."""
    id: str
    payload: Any = None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def error_message(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def result_message(result: Any) -> str:
    """A task returns a message string, a dict with an optional "message", or None."""
    if isinstance(result, dict):
        return str(result.get("message", ""))
    return "" if result is None else str(result)


def _run_item(task: Callable[[Item], Any], item: Item) -> dict:
    """Body of every Ray task: exceptions become data here, in the worker, so that any exception
    (even one that cannot be pickled) reaches the driver as a readable message."""
    start = time.perf_counter()
    try:
        result = task(item)
    except Exception as exc:  # noqa: BLE001 - one bad item must not stop the batch
        return {"status": FAILED, "message": error_message(exc), "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - start}
    return {"status": OK, "result": result, "message": result_message(result), "seconds": time.perf_counter() - start}


class Report:
    """The batch report: one entry per item, in item order, rewritten atomically on every change."""

    def __init__(self, path, title: str, items: Sequence[Item], cluster: str = "none (nothing to run)"):
        self.path = Path(path)
        self.data = {"title": title, "cluster": cluster, "started": _now(), "updated": _now(), "finished": False,
                     "total": len(items), "counts": {}, "items": {}}
        for item in items:
            self.data["items"][item.id] = {"status": PENDING, "message": "", "seconds": None}
        self._count()

    def _count(self) -> None:
        counts = {s: 0 for s in (OK, SKIPPED, FAILED, PENDING)}
        for entry in self.data["items"].values():
            counts[entry["status"]] += 1
        self.data["counts"] = counts

    def set(self, item_id: str, status: str, message: str, seconds: float | None, tb: str | None = None) -> None:
        entry = {"status": status, "message": message, "seconds": None if seconds is None else round(seconds, 3)}
        if tb:
            entry["traceback"] = tb
        self.data["items"][item_id] = entry
        self._count()

    def write(self, finished: bool = False) -> None:
        self.data["updated"] = _now()
        self.data["finished"] = finished
        atomic_write_bytes(self.path, json.dumps(self.data, indent=1).encode() + b"\n")


def read_report(path) -> dict:
    return json.loads(Path(path).read_bytes())


class ClusterConnectionError(ConnectionError):
    """The Ray cluster named by `address` cannot be reached or refuses this driver."""


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a HOST:PORT nothing answers at: ray.init would retry it without end."""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return  # "auto", ray://..., or another form: left to Ray
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterConnectionError(f"no Ray cluster answers at {address} ({exc}); start one there with "
                                     "`ray start --head`, or leave out --address for a local cluster") from None


def _connect(address: str | None, workers: int | None) -> tuple[bool, str]:
    """Connect to Ray: (whether this call made the connection and so must shut it down, the cluster in words)."""
    import ray

    if ray.is_initialized():
        # the caller (a test, a notebook) holds a connection: use it and leave it open
        return False, f"the caller's connection ({ray.get_runtime_context().gcs_address})"
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline nodes: no usage-report attempts
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address:
        _check_reachable(address)
        try:
            ray.init(address=address, **quiet)
        except ConnectionError as exc:
            # Ray sends a token only when asked to (RAY_AUTH_MODE=token) when given an explicit address.
            raise ClusterConnectionError(
                f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0]}. If the cluster uses token "
                "authentication (`ray start` turns it on when ~/.ray/auth_token exists), export RAY_AUTH_MODE=token "
                "and give this machine the cluster's token (~/.ray/auth_token or RAY_AUTH_TOKEN)") from exc
        return True, address
    # Ray turns token authentication on for every new local cluster and warns that it did: noise here.
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    cpus = workers or os.cpu_count() or 1
    # "local" always starts a fresh cluster, never silently joins one found on this machine.
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
    return True, f"local ({cpus} CPUs)"


def _collect(ref, submitted: float) -> dict:
    """The outcome of a finished task; a task that died with its worker (crash, out of memory)
    or was cancelled is a failed item too."""
    import ray

    try:
        return ray.get(ref)
    except Exception as exc:  # noqa: BLE001 - Ray's errors for lost workers/tasks
        first = error_message(exc).splitlines()[0]
        return {"status": FAILED, "message": first, "traceback": str(exc), "seconds": time.perf_counter() - submitted}


def _line(k: int, n: int, item_id: str, status: str, message: str, seconds: float | None) -> str:
    message = " ".join(message.split())
    if len(message) > _LINE_MESSAGE_CHARS:
        message = message[:_LINE_MESSAGE_CHARS - 3] + "..."
    text = f"[{k}/{n}] {item_id}: {status}" + (f": {message}" if message else "")
    return text + f" ({seconds or 0.0:.1f} s)"


def run_batch(items: Sequence[Item], task: Callable[[Item], Any], report_path, *,
              is_done: Callable[[Item], bool] | None = None,
              on_result: Callable[[Item, Any], None] | None = None,
              address: str | None = None, workers: int | None = None, num_cpus: float = 1,
              max_retries: int = 1, title: str = "batch", out: TextIO | None = None) -> dict:
    """Run `task(item)` for every item not done; return the final report (as written to `report_path`).

    task: a picklable top-level function, run in a Ray worker; its return value goes to
        `on_result(item, value)` here in the driver (e.g. to update a manifest); an exception
        from `on_result` fails that item too.
    max_retries: re-runs of a task whose worker died (not of one that raised).
    If Ray is already initialised in this process that connection is used and left open.
    """
    out = sys.stdout if out is None else out
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        dupes = sorted(i for i, count in Counter(ids).items() if count > 1)
        raise ValueError(f"item ids must be unique; repeated: {dupes}")
    report = Report(report_path, title, items)
    n, k = len(items), 0

    def finish(item: Item, outcome: dict) -> None:
        nonlocal k
        k += 1
        report.set(item.id, outcome["status"], outcome["message"], outcome["seconds"], outcome.get("traceback"))
        report.write()  # before the line: whatever the user saw is on disk
        print(_line(k, n, item.id, outcome["status"], outcome["message"], outcome["seconds"]), file=out, flush=True)

    todo = []
    report.write()  # every item pending: a batch killed right away still leaves a true report
    for item in items:
        if is_done is not None and is_done(item):
            finish(item, {"status": SKIPPED, "message": "already done", "seconds": 0.0})
        else:
            todo.append(item)
    if todo:
        import ray

        owner, report.data["cluster"] = _connect(address, workers)
        try:
            remote = ray.remote(_run_item).options(num_cpus=num_cpus, max_retries=max_retries)
            running = {remote.remote(task, item): (item, time.perf_counter()) for item in todo}
            pending = list(running)
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    item, submitted = running.pop(ref)
                    outcome = _collect(ref, submitted)
                    if outcome["status"] == OK and on_result is not None:
                        try:
                            on_result(item, outcome.get("result"))
                        except Exception as exc:  # noqa: BLE001 - e.g. a full disk while recording it
                            outcome = {**outcome, "status": FAILED, "message": error_message(exc),
                                       "traceback": traceback.format_exc()}
                    finish(item, outcome)
        finally:
            if owner:
                ray.shutdown()
    report.write(finished=True)
    return report.data
