"""Shard container: deterministic bytes, streaming vs random access, hash checks, atomicity."""
import json
import tarfile

import numpy as np
import pytest

from hoi_perception.synth import shards as S


def _sample(i):
    rng = np.random.default_rng(i)
    return ({"rgb": rng.integers(0, 255, (8, 6, 3), dtype=np.uint8),
             "verts": rng.normal(size=(10, 3)).astype(np.float32),
             "contact": np.asfortranarray(rng.random((4, 5)) > 0.5)},  # F-order is stored as C-order
            {"object_id": f"obj{i % 3}", "kind": "fullbody", "seed": i, "scale": np.float32(1.5)})


def _write(root, shard_id, indices, compression="none"):
    with S.ShardWriter(root, shard_id, compression) as w:
        for i in indices:
            w.add(i, *_sample(i))
        return w.close()


def _dataset(root, compression="none"):
    root.mkdir(parents=True, exist_ok=True)
    entries = [_write(root, 0, range(0, 4), compression), _write(root, 1, range(4, 7), compression)]
    S.write_manifest(root, {"format": S.FORMAT, "format_version": S.FORMAT_VERSION, "requested": 7,
                            "shards": entries})
    return root


def test_same_samples_give_identical_bytes(tmp_path):
    for d in "abc":
        (tmp_path / d).mkdir()
    a = _write(tmp_path / "a", 0, range(5))
    b = _write(tmp_path / "b", 0, range(5))
    assert a == b
    assert (tmp_path / "a" / a["name"]).read_bytes() == (tmp_path / "b" / b["name"]).read_bytes()
    assert (tmp_path / "a" / a["index"]).read_bytes() == (tmp_path / "b" / b["index"]).read_bytes()
    # A different sample changes the hash.
    c = _write(tmp_path / "c", 0, [0, 1, 2, 3, 5])
    assert c["sha256"] != a["sha256"]


def test_tar_is_plain_and_normalised(tmp_path):
    e = _write(tmp_path, 3, [30, 31])
    assert e["name"] == "shard-000003.tar" and e["first"] == 30 and e["count"] == 2
    with tarfile.open(tmp_path / e["name"]) as tar:
        members = tar.getmembers()
    assert [m.name for m in members[:4]] == ["000000030.meta.json", "000000030.contact.npy",
                                             "000000030.rgb.npy", "000000030.verts.npy"]
    assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" for m in members)
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_random_access_and_streaming_agree(tmp_path, compression):
    root = _dataset(tmp_path / "ds", compression)
    ss = S.ShardSet(root, verify=True)
    assert len(ss) == 7 and ss.keys() == ["contact", "rgb", "verts"]
    streamed = list(ss.iter_shards())
    assert [s[0] for s in streamed] == list(range(7))
    for i in (6, 0, 3, 4):  # out of order on purpose
        arrays, meta, index = ss.get(i)
        ref_arrays, ref_meta = _sample(i)
        assert index == i
        assert meta == json.loads(json.dumps({**ref_meta, "scale": 1.5}))
        for k, v in ref_arrays.items():
            assert arrays[k].dtype == v.dtype and np.array_equal(arrays[k], v)
            assert np.array_equal(streamed[i][1][k], v)
    only, _, _ = ss.get(5, keys=["verts"])
    assert list(only) == ["verts"]
    with pytest.raises(KeyError):
        ss.get(5, keys=["depth"])
    with pytest.raises(IndexError):
        ss.get(7)


def test_corrupt_shard_is_detected(tmp_path):
    root = _dataset(tmp_path / "ds")
    path = root / "shard-000001.tar"
    data = bytearray(path.read_bytes())
    data[1500] ^= 0xFF  # same size, different bytes
    path.write_bytes(bytes(data))
    S.ShardSet(root)  # size check alone passes
    with pytest.raises(S.CorruptShardError, match="shard-000001.tar is corrupt"):
        S.ShardSet(root, verify=True)
    with pytest.raises(S.CorruptShardError):
        list(S.ShardSet(root).iter_shards([1]))
    # A truncated shard fails even the cheap check.
    path.write_bytes(bytes(data[:1024]))
    with pytest.raises(S.CorruptShardError, match="bytes"):
        S.ShardSet(root)


def test_corrupt_index_is_detected(tmp_path):
    root = _dataset(tmp_path / "ds")
    idx = root / "shard-000000.idx.json"
    idx.write_bytes(idx.read_bytes().replace(b'"obj0"', b'"objX"'))
    with pytest.raises(S.CorruptShardError, match="idx.json is corrupt"):
        S.ShardSet(root).get(0)


def test_unfinished_shard_is_not_visible(tmp_path):
    root = _dataset(tmp_path / "ds")
    w = S.ShardWriter(root, 2)
    w.add(7, *_sample(7))  # never closed: a killed writer
    assert (root / "shard-000002.tar.tmp").exists() and not (root / "shard-000002.tar").exists()
    assert len(S.ShardSet(root)) == 7
    w.abort()
    assert not (root / "shard-000002.tar.tmp").exists()


def test_writer_rejects_bad_samples(tmp_path):
    with S.ShardWriter(tmp_path, 0) as w:
        w.add(1, *_sample(1))
        with pytest.raises(ValueError, match="increasing"):
            w.add(1, *_sample(1))
        with pytest.raises(ValueError, match="key"):
            w.add(2, {"a.b": np.zeros(2)}, {})
        with pytest.raises(TypeError, match="object"):
            w.add(3, {"x": np.array([None])}, {})
        w.abort()


def test_manifest_is_replaced_atomically_and_hashed(tmp_path):
    root = _dataset(tmp_path / "ds")
    m = S.read_manifest(root)
    assert m["total"] == 7 and m["complete"] is True
    assert m["content_hash"] == S.content_hash(m["shards"])
    assert not list(root.glob("*.tmp"))
    with pytest.raises(S.ShardError, match="not found"):
        S.read_manifest(tmp_path)


def test_several_datasets_read_as_one(tmp_path):
    a = _dataset(tmp_path / "a")
    b = tmp_path / "b"
    b.mkdir()
    S.write_manifest(b, {"format": S.FORMAT, "format_version": S.FORMAT_VERSION, "requested": 2,
                         "shards": [_write(b, 0, [20, 21])]})
    assert isinstance(S.open_shards(str(a)), S.ShardSet)
    both = S.open_shards(f"{a}, {b}")
    assert len(both) == 9
    # positions 0-6 are the first set's samples, 7-8 the second's, each with its own index
    for pos, expect in ((0, 0), (6, 6), (7, 20), (8, 21)):
        arrays, meta, index = both.get(pos)
        assert index == expect and np.array_equal(arrays["verts"], _sample(expect)[0]["verts"])
    with pytest.raises(IndexError):
        both.get(9)
