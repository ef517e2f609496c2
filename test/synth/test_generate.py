"""Driver: determinism across worker counts, resume, errors, and the torch datasets on top."""
import errno
import os

import numpy as np
import pytest

from hoi_perception.synth import generate as G
from hoi_perception.synth import shards as S


def make_sample(kind, seed):
    """Tiny pure-numpy sample; top-level so spawn workers can unpickle it."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))  # arrays of varying size
    return ({"points": rng.normal(size=(n, 3)).astype(np.float32),
             "label": np.array([seed % 7], dtype=np.int64)},
            {"kind": kind, "seed": seed, "object_id": f"obj{seed % 5}"})


_WORKER_STATE = {}


def init_renderer():
    _WORKER_STATE["renderer"] = os.getpid()  # stands in for an OpenGL context built once per worker


def sample_needing_renderer(kind, seed):
    if _WORKER_STATE.get("renderer") != os.getpid():
        raise RuntimeError("renderer was not initialised in this process")
    return make_sample(kind, seed)


def failing_sample(kind, seed):
    raise RuntimeError("sampler exploded")


def _files(root):
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


ARGS = dict(kind="toy", n=11, seed=123, shard_size=4, progress=False, generator_version="t1", params={"res": 8})


def test_sample_seed_is_a_spawn_child():
    child = np.random.SeedSequence(123).spawn(6)[5]
    assert G.sample_seed(123, 5) == int(child.generate_state(1, dtype=np.uint64)[0])
    assert len({G.sample_seed(123, i) for i in range(100)}) == 100


def test_one_and_two_workers_give_identical_bytes(tmp_path):
    m1 = G.generate_dataset(tmp_path / "w1", make_sample=make_sample, workers=1, **ARGS)
    m2 = G.generate_dataset(tmp_path / "w2", make_sample=make_sample, workers=2, **ARGS)
    assert m1 == m2
    assert _files(tmp_path / "w1") == _files(tmp_path / "w2")
    assert m1["total"] == 11 and m1["complete"] and [s["count"] for s in m1["shards"]] == [4, 4, 3]
    assert m1["params"] == {"res": 8} and m1["kind"] == "toy" and m1["seed"] == 123
    # The stored sample is exactly what make_sample returns for the derived seed.
    arrays, meta, index = S.ShardSet(tmp_path / "w1").get(9)
    ref_arrays, ref_meta = make_sample("toy", G.sample_seed(123, 9))
    assert index == 9 and meta == ref_meta
    assert np.array_equal(arrays["points"], ref_arrays["points"])


def test_worker_init_runs_in_every_worker(tmp_path):
    m = G.generate_dataset(tmp_path / "a", make_sample=sample_needing_renderer, worker_init=init_renderer,
                           workers=2, **ARGS)
    ref = G.generate_dataset(tmp_path / "b", make_sample=make_sample, workers=1, **ARGS)
    assert m["content_hash"] == ref["content_hash"]
    with pytest.raises(RuntimeError, match="not initialised"):
        G.generate_dataset(tmp_path / "c", make_sample=sample_needing_renderer, workers=2, **ARGS)


def test_resume_after_deleting_last_shard_and_killed_writer(tmp_path):
    fresh = tmp_path / "fresh"
    G.generate_dataset(fresh, make_sample=make_sample, workers=1, **ARGS)
    run = tmp_path / "run"
    G.generate_dataset(run, make_sample=make_sample, workers=1, **ARGS)
    (run / "shard-000002.tar").unlink()
    (run / "shard-000001.tar.tmp").write_bytes(b"half a shard")  # what a kill leaves behind
    with pytest.warns(UserWarning, match="missing"):
        G.generate_dataset(run, make_sample=make_sample, workers=1, **ARGS)
    assert _files(run) == _files(fresh)


def test_killed_run_leaves_a_loadable_dataset_with_finished_shards_only(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_add = S.ShardWriter.add

    def add_then_die(self, index, arrays, meta):
        if index == 9:
            raise KeyboardInterrupt  # killed in the middle of shard 2
        calls["n"] += 1
        real_add(self, index, arrays, meta)

    monkeypatch.setattr(S.ShardWriter, "add", add_then_die)
    with pytest.raises(KeyboardInterrupt):
        G.generate_dataset(tmp_path / "ds", make_sample=make_sample, workers=1, **ARGS)
    m = S.read_manifest(tmp_path / "ds")
    assert [s["name"] for s in m["shards"]] == ["shard-000000.tar", "shard-000001.tar"]
    assert m["total"] == 8 and m["complete"] is False
    assert len(S.ShardSet(tmp_path / "ds", verify=True)) == 8
    monkeypatch.undo()
    G.generate_dataset(tmp_path / "ds", make_sample=make_sample, workers=1, **ARGS)
    G.generate_dataset(tmp_path / "fresh", make_sample=make_sample, workers=1, **ARGS)
    assert _files(tmp_path / "ds") == _files(tmp_path / "fresh")


def test_resume_with_different_arguments_is_refused(tmp_path):
    G.generate_dataset(tmp_path, make_sample=make_sample, workers=1, **ARGS)
    with pytest.raises(G.DatasetMismatchError, match="seed: existing 123 vs requested 124"):
        G.generate_dataset(tmp_path, make_sample=make_sample, workers=1, **{**ARGS, "seed": 124})
    with pytest.raises(G.DatasetMismatchError, match="params"):
        G.generate_dataset(tmp_path, make_sample=make_sample, workers=1, **{**ARGS, "params": {"res": 9}})


def test_corrupt_shard_stops_resume(tmp_path):
    G.generate_dataset(tmp_path, make_sample=make_sample, workers=1, **ARGS)
    p = tmp_path / "shard-000000.tar"
    data = bytearray(p.read_bytes())
    data[700] ^= 1
    p.write_bytes(bytes(data))
    with pytest.raises(S.CorruptShardError, match="shard-000000.tar is corrupt"):
        G.generate_dataset(tmp_path, make_sample=make_sample, workers=1, **ARGS)


@pytest.mark.parametrize("bad", [dict(n=0), dict(n=-3), dict(shard_size=0), dict(seed=-1), dict(kind="")])
def test_impossible_arguments(tmp_path, bad):
    with pytest.raises(ValueError):
        G.generate_dataset(tmp_path / "x", make_sample=make_sample, workers=1, **{**ARGS, **bad})
    assert not (tmp_path / "x").exists()


def test_disk_full_is_reported_and_manifest_stays_valid(tmp_path, monkeypatch):
    real_close = S.ShardWriter.close

    def close_full(self):
        if self.shard_id == 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_close(self)

    monkeypatch.setattr(S.ShardWriter, "close", close_full)
    with pytest.raises(G.DiskFullError, match="disk full.*1 finished shard"):
        G.generate_dataset(tmp_path, make_sample=make_sample, workers=1, **ARGS)
    assert S.read_manifest(tmp_path)["total"] == 4
    assert not list(tmp_path.glob("*.tmp"))


def test_output_path_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OSError, match="cannot create the output folder"):
        G.generate_dataset(tmp_path / "f" / "ds", make_sample=make_sample, workers=1, **ARGS)


def test_unwritable_folder(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            G.generate_dataset(ro, make_sample=make_sample, workers=1, **ARGS)
    finally:
        ro.chmod(0o700)


def test_sampler_error_propagates_from_workers(tmp_path):
    with pytest.raises(RuntimeError, match="sampler exploded"):
        G.generate_dataset(tmp_path, make_sample=failing_sample, workers=2, **ARGS)
    assert S.read_manifest(tmp_path)["total"] == 0
    assert not list(tmp_path.glob("*.tmp"))


def test_torch_datasets(tmp_path):
    torch = pytest.importorskip("torch")
    from hoi_perception.synth.dataset import HOIShardDataset, HOIShardIterable

    G.generate_dataset(tmp_path, make_sample=make_sample, workers=1, **ARGS)
    ds = HOIShardDataset(tmp_path, verify=True)
    assert len(ds) == 11
    item = ds[7]
    ref, _ = make_sample("toy", G.sample_seed(123, 7))
    assert set(item) == {"points", "label"}
    assert item["points"].dtype == torch.float32 and torch.equal(item["points"], torch.from_numpy(ref["points"]))
    only = HOIShardDataset(tmp_path, keys=["label"], transform=lambda d: {**d, "twice": 2 * d["label"]}, with_meta=True)[3]
    assert set(only) == {"label", "twice", "meta", "index"} and only["index"] == 3
    assert only["meta"]["seed"] == G.sample_seed(123, 3)

    # Two DataLoader workers split the 3 shards; every sample comes exactly once.
    it = HOIShardIterable(tmp_path, keys=["label"], with_meta=True)
    loader = torch.utils.data.DataLoader(it, batch_size=None, num_workers=2)
    assert sorted(x["index"] for x in loader) == list(range(11))
    # Shuffled streaming is a permutation, reproducible per epoch.
    sh = HOIShardIterable(tmp_path, keys=["label"], with_meta=True, shuffle=True, seed=1, buffer_size=3)
    first = [x["index"] for x in sh]
    assert sorted(first) == list(range(11)) and first == [x["index"] for x in sh]
    # Rank split: two ranks together see every sample once.
    r0 = [x["index"] for x in HOIShardIterable(tmp_path, with_meta=True, rank=0, world_size=2)]
    r1 = [x["index"] for x in HOIShardIterable(tmp_path, with_meta=True, rank=1, world_size=2)]
    assert sorted(r0 + r1) == list(range(11)) and not set(r0) & set(r1)
