"""The batch executor on a real local Ray cluster (2 CPUs, started once for this module)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hoi_perception.batch.executor import Item, read_report, run_batch

ray = pytest.importorskip("ray")

LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): (ok|skipped|failed)(?:: (.*))? \((\d+\.\d) s\)$")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    # The tasks below live in this test module, which Ray workers cannot import: send them by value.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray.get_runtime_context().gcs_address
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    ray.shutdown()


def write_item(item: Item) -> dict:
    """The job: log the run, fail for ids starting with "bad", else write the item's done marker."""
    folder = Path(item.payload)
    with open(folder / "runs.log", "a") as f:
        f.write(item.id + "\n")
    if item.id.startswith("bad"):
        raise ValueError(f"cannot process {item.id}")
    if item.id.startswith("crash"):
        os._exit(3)  # the worker process dies without a Python exception
    (folder / f"{item.id}.txt").write_text(item.id.upper())
    return {"message": f"wrote {item.id}.txt", "upper": item.id.upper()}


def is_done(item: Item) -> bool:
    return (Path(item.payload) / f"{item.id}.txt").is_file()


def runs(folder: Path) -> list[str]:
    return (folder / "runs.log").read_text().split() if (folder / "runs.log").exists() else []


class SnapshotStream:
    """Progress output that reads the report from disk at every progress line: what a user (or a
    kill at that moment) would find."""

    def __init__(self, report_path: Path):
        self.report_path = report_path
        self.lines: list[str] = []
        self.snapshots: list[dict] = []

    def write(self, text: str) -> None:
        if text.startswith("["):
            self.lines.append(text)
            self.snapshots.append(json.loads(self.report_path.read_bytes()))

    def flush(self) -> None:
        pass


def batch(tmp_path: Path, ids, **kw) -> tuple[dict, SnapshotStream]:
    stream = SnapshotStream(tmp_path / "report.json")
    report = run_batch([Item(i, str(tmp_path)) for i in ids], write_item, tmp_path / "report.json",
                       is_done=is_done, out=stream, **kw)
    return report, stream


def test_results_progress_and_a_true_report_after_each_item(tmp_path):
    results = {}
    ids = ["a", "b", "c", "d"]
    report, stream = batch(tmp_path, ids, on_result=lambda item, r: results.update({item.id: r["upper"]}))
    assert results == {i: i.upper() for i in ids}  # every result reached the driver
    assert [(tmp_path / f"{i}.txt").read_text() for i in ids] == ["A", "B", "C", "D"]
    assert report["counts"] == {"ok": 4, "skipped": 0, "failed": 0, "pending": 0} and report["finished"]
    assert read_report(tmp_path / "report.json") == report
    assert [report["items"][i]["message"] for i in ids] == [f"wrote {i}.txt" for i in ids]

    parsed = [LINE.match(line) for line in stream.lines]
    assert all(parsed), stream.lines
    assert [int(m[1]) for m in parsed] == [1, 2, 3, 4] and {m[2] for m in parsed} == {"4"}
    assert sorted(m[3] for m in parsed) == ids and {m[4] for m in parsed} == {"ok"}
    for k, (m, snap) in enumerate(zip(parsed, stream.snapshots), start=1):
        # The report on disk already holds the item of this line, and only the items finished so far.
        assert not snap["finished"] and snap["items"][m[3]]["status"] == "ok"
        assert snap["counts"]["ok"] == k and snap["counts"]["pending"] == 4 - k


def test_rerun_skips_what_is_done(tmp_path):
    batch(tmp_path, ["a", "b", "c"])
    assert sorted(runs(tmp_path)) == ["a", "b", "c"]
    report, stream = batch(tmp_path, ["a", "b", "c"])
    assert sorted(runs(tmp_path)) == ["a", "b", "c"]  # nothing ran again
    assert report["counts"]["skipped"] == 3 and all("skipped: already done" in line for line in stream.lines)

    (tmp_path / "b.txt").unlink()  # as if b had been interrupted
    report, stream = batch(tmp_path, ["a", "b", "c"])
    assert sorted(runs(tmp_path)) == ["a", "b", "b", "c"]
    assert {i: e["status"] for i, e in report["items"].items()} == {"a": "skipped", "b": "ok", "c": "skipped"}
    assert stream.lines[-1].startswith("[3/3] b: ok: wrote b.txt")


def test_a_failing_item_is_reported_and_the_others_succeed(tmp_path):
    def record(item, result):
        if item.id == "late":
            raise OSError(28, "No space left on device")

    report, stream = batch(tmp_path, ["ok1", "bad1", "ok2", "late"], on_result=record)
    items = report["items"]
    assert items["bad1"]["status"] == "failed" and items["bad1"]["message"] == "ValueError: cannot process bad1"
    assert "write_item" in items["bad1"]["traceback"]
    assert items["ok1"]["status"] == items["ok2"]["status"] == "ok"
    # the task succeeded but recording its result (in the driver) failed: a failure too
    assert items["late"]["status"] == "failed" and "No space left on device" in items["late"]["message"]
    assert report["counts"] == {"ok": 2, "skipped": 0, "failed": 2, "pending": 0}
    bad_line = next(line for line in stream.lines if " bad1: " in line)
    assert LINE.match(bad_line) and "] bad1: failed: ValueError: cannot process bad1 (" in bad_line

    # a rerun tries the failed one again and skips the rest
    report, _ = batch(tmp_path, ["ok1", "bad1", "ok2"])
    assert {i: e["status"] for i, e in report["items"].items()} == {"ok1": "skipped", "bad1": "failed",
                                                                     "ok2": "skipped"}


def test_a_worker_that_dies_is_a_failed_item(tmp_path):
    report, _ = batch(tmp_path, ["crash1", "ok1"], max_retries=0)
    assert report["items"]["ok1"]["status"] == "ok"
    assert report["items"]["crash1"]["status"] == "failed" and report["items"]["crash1"]["message"]


def test_repeated_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        run_batch([Item("a"), Item("a")], write_item, tmp_path / "r.json")


FRESH_DRIVER = """
import json, sys, ray
from hoi_perception.batch.executor import Item, run_batch

def node(item):  # defined in __main__, so sent by value
    return {"message": ray.get_runtime_context().get_node_id()}

report = run_batch([Item("a"), Item("b")], node, sys.argv[1], address=sys.argv[2] or None, workers=1)
print(json.dumps({"report": report, "still_connected": ray.is_initialized()}))
"""


def fresh_driver(tmp_path: Path, address: str = "") -> tuple[set[str], dict]:
    """run_batch in a new interpreter where Ray is not initialised: (node ids its tasks ran on, report)."""
    r = subprocess.run([sys.executable, "-c", FRESH_DRIVER, str(tmp_path / "r.json"), address], check=False,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    parsed = [LINE.match(line) for line in lines[:-1]]
    assert all(parsed) and [m[1] for m in parsed] == ["1", "2"] and sorted(m[3] for m in parsed) == ["a", "b"]
    result = json.loads(lines[-1])
    assert not result["still_connected"]  # it shut down (or left) what it started
    assert result["report"]["counts"]["ok"] == 2 and read_report(tmp_path / "r.json") == result["report"]
    return {item["message"] for item in result["report"]["items"].values()}, result["report"]


def test_without_an_address_it_starts_a_local_cluster_and_stops_it(tmp_path):
    nodes, report = fresh_driver(tmp_path)
    assert report["cluster"] == "local (1 CPUs)"
    assert ray.get_runtime_context().get_node_id() not in nodes  # a cluster of its own, not this module's


def test_another_driver_joins_a_cluster_by_address(tmp_path, cluster):
    # As `hoi-perception batch ... --address HOST:PORT` joins a cluster made by `ray start --head`.
    nodes, report = fresh_driver(tmp_path, address=cluster)
    assert report["cluster"] == cluster and nodes == {ray.get_runtime_context().get_node_id()}
