"""Shard container of the synthetic data engine: tar shards, sidecar indices, manifest.

Layout of a dataset folder::

    manifest.json               what is finished (only finished shards are listed)
    shard-000000.tar            samples 0 .. shard_size-1
    shard-000000.idx.json       byte offsets of every array in the tar (random access)
    ...

A shard is a plain POSIX (ustar) tar, WebDataset-style: for sample with global index i it holds
``{i:09d}.meta.json`` followed by one ``{i:09d}.{key}.npy`` per array (keys sorted), or
``.npy.gz`` when written with ``compression="gzip"``. Any tar tool or WebDataset can read it; it
streams sequentially without loading the shard; and because members are stored uncompressed
inside the tar, the sidecar index gives direct byte offsets for random access by index.

Bytes are deterministic: tar headers carry mtime 0, uid/gid 0, empty owner names, mode 0644;
arrays are written C-ordered with the .npy format; JSON is written with sorted keys; gzip uses
mtime 0 (byte-identical for the same zlib build). Same samples -> same shard bytes and hashes.

Shards and indices are written under ``*.tmp`` names and renamed when complete; the manifest is
replaced atomically. A killed writer leaves only ``*.tmp`` files, which readers ignore.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
from bisect import bisect_right
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from hoi_perception.atomic_files import atomic_write_bytes

FORMAT = "hoi-shards"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_KEY_RE = re.compile(r"^[A-Za-z0-9_]+$")
_MEMBER_RE = re.compile(r"^(\d{9})\.([A-Za-z0-9_]+)\.(npy|npy\.gz|json)$")
COMPRESSIONS = ("none", "gzip")


class ShardError(RuntimeError):
    """A dataset folder that cannot be read as written."""


class CorruptShardError(ShardError):
    """A shard or index whose bytes do not match the sha256 recorded in the manifest."""


def shard_name(shard_id: int) -> str:
    return f"shard-{shard_id:06d}.tar"


def index_name(shard_id: int) -> str:
    return f"shard-{shard_id:06d}.idx.json"


def canonical_json(obj) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces, numpy scalars/arrays as Python values)."""
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"{type(o).__name__} is not JSON-serialisable")

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=default, allow_nan=False).encode()


def sha256_file(path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def encode_array(arr: np.ndarray, compression: str = "none") -> bytes:
    a = np.asarray(arr)
    if a.dtype.hasobject:
        raise TypeError("object arrays cannot be stored (no pickles in shards)")
    buf = io.BytesIO()
    # asarray(order="C") keeps 0-d arrays 0-d (ascontiguousarray would make them 1-d).
    np.lib.format.write_array(buf, np.asarray(a, order="C"), allow_pickle=False)
    data = buf.getvalue()
    if compression == "gzip":
        data = gzip.compress(data, compresslevel=6, mtime=0)
    return data


def decode_array(data: bytes, gz: bool) -> np.ndarray:
    if gz:
        data = gzip.decompress(data)
    return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.mtime = 0
    ti.mode = 0o644
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.type = tarfile.REGTYPE
    return ti


class ShardWriter:
    """Writes one shard (tar + sidecar index) under temporary names; `close()` renames both.

    Use `add()` per sample in increasing index order, then `close()` which returns the manifest
    entry. On any error call `abort()` (the context manager does) to remove the temporaries.
    """

    def __init__(self, root, shard_id: int, compression: str = "none"):
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        self.root = Path(root)
        self.shard_id = shard_id
        self.compression = compression
        self.path = self.root / shard_name(shard_id)
        self.index_path = self.root / index_name(shard_id)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self._file = open(self.tmp, "wb")
        self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.USTAR_FORMAT)
        self._samples: list[dict] = []
        self._keys: set[str] = set()
        self._last = -1

    def _member(self, name: str, data: bytes) -> list[int]:
        self._tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))
        # tar pads member data to 512-byte blocks; the data starts right after its header.
        padded = -(-len(data) // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
        return [self._tar.offset - padded, len(data)]

    def add(self, index: int, arrays: dict, meta: dict) -> None:
        index = int(index)
        if index <= self._last:
            raise ValueError(f"samples must be added in increasing index order ({index} after {self._last})")
        if not isinstance(arrays, dict) or not arrays:
            raise TypeError(f"sample {index}: arrays must be a non-empty dict of numpy arrays")
        if not isinstance(meta, dict):
            raise TypeError(f"sample {index}: meta must be a dict")
        for k in arrays:
            if not isinstance(k, str) or not _KEY_RE.match(k) or k == "meta":
                raise ValueError(f"sample {index}: array key {k!r} must match [A-Za-z0-9_]+ and not be 'meta'")
        prefix = f"{index:09d}"
        meta_bytes = canonical_json(meta)
        entry = {"index": index, "meta": json.loads(meta_bytes), "arrays": {}}
        self._member(f"{prefix}.meta.json", meta_bytes)
        ext = "npy.gz" if self.compression == "gzip" else "npy"
        for k in sorted(arrays):
            off, size = self._member(f"{prefix}.{k}.{ext}", encode_array(arrays[k], self.compression))
            entry["arrays"][k] = [off, size]
        self._samples.append(entry)
        self._keys.update(arrays)
        self._last = index

    def close(self) -> dict:
        """Finish the tar, write the index, fsync, rename both; return the manifest entry."""
        if not self._samples:
            self.abort()
            raise ValueError("a shard needs at least one sample")
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        index = {"format": FORMAT, "format_version": FORMAT_VERSION, "shard": self.shard_id,
                 "compression": self.compression, "samples": self._samples}
        index_bytes = canonical_json(index)
        try:
            atomic_write_bytes(self.index_path, index_bytes)
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        return {
            "shard": self.shard_id,
            "name": self.path.name,
            "index": self.index_path.name,
            "first": self._samples[0]["index"],
            "count": len(self._samples),
            "bytes": self.path.stat().st_size,
            "sha256": sha256_file(self.path),
            "index_sha256": hashlib.sha256(index_bytes).hexdigest(),
            "keys": sorted(self._keys),
        }

    def abort(self) -> None:
        for closer in (self._tar.close, self._file.close):
            try:
                closer()
            except Exception:  # noqa: BLE001 - cleaning up after an earlier error (e.g. a full disk)
                pass
        self.tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------

def content_hash(shards: Iterable[dict]) -> str:
    """sha256 over the shard and index hashes, in shard order: one fingerprint per dataset."""
    h = hashlib.sha256()
    for s in sorted(shards, key=lambda e: e["shard"]):
        h.update(f"{s['name']}:{s['sha256']}:{s['index_sha256']}\n".encode())
    return h.hexdigest()


def read_manifest(root) -> dict:
    path = Path(root) / MANIFEST
    try:
        m = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ShardError(f"{path} not found: not a dataset folder (or nothing was finished yet)") from None
    except json.JSONDecodeError as e:
        raise ShardError(f"{path} is not valid JSON: {e}") from None
    if m.get("format") != FORMAT:
        raise ShardError(f"{path}: format {m.get('format')!r}, expected {FORMAT!r}")
    if m.get("format_version", 0) > FORMAT_VERSION:
        raise ShardError(f"{path}: format version {m['format_version']} is newer than this reader ({FORMAT_VERSION})")
    return m


def write_manifest(root, manifest: dict) -> None:
    """Recompute the totals and the content hash, then replace manifest.json atomically."""
    shards = sorted(manifest["shards"], key=lambda e: e["shard"])
    manifest["shards"] = shards
    manifest["total"] = sum(s["count"] for s in shards)
    manifest["content_hash"] = content_hash(shards)
    manifest["complete"] = manifest["total"] == manifest.get("requested")
    atomic_write_bytes(Path(root) / MANIFEST, json.dumps(manifest, sort_keys=True, indent=1).encode() + b"\n")


def verify_shard(root, entry: dict) -> None:
    """Raise CorruptShardError when the shard or its index differ from the manifest entry."""
    root = Path(root)
    for name, key in ((entry["name"], "sha256"), (entry["index"], "index_sha256")):
        path = root / name
        if not path.is_file():
            raise CorruptShardError(f"{path} is listed in the manifest but missing")
        digest = sha256_file(path)
        if digest != entry[key]:
            raise CorruptShardError(
                f"{path} is corrupt: sha256 {digest[:16]}... differs from the manifest's {entry[key][:16]}...; "
                "delete it and re-run the generator with the same arguments to rebuild it")


def verify_dataset(root) -> dict:
    """Check every listed shard against its hash; return the manifest."""
    m = read_manifest(root)
    for e in m["shards"]:
        verify_shard(root, e)
    return m


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

class _HashingReader(io.RawIOBase):
    """File wrapper that hashes everything read through it (streaming verification for free)."""

    def __init__(self, f):
        self._f = f
        self.hash = hashlib.sha256()

    def readable(self):
        return True

    def read(self, n=-1):
        data = self._f.read(n)
        self.hash.update(data)
        return data

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def drain(self):
        while self.read(1 << 20):
            pass


def iter_shard(path, keys=None, expected_sha256: str | None = None) -> Iterator[tuple[int, dict, dict]]:
    """Stream (index, arrays, meta) from one shard file, reading it once front to back.

    Only the requested `keys` are decoded (all when None). With `expected_sha256` the bytes are
    hashed on the way and CorruptShardError is raised at the end of the shard on a mismatch.
    """
    want = None if keys is None else set(keys)
    with open(path, "rb") as raw:
        reader = _HashingReader(raw)
        cur, arrays, meta = None, {}, {}
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    m = _MEMBER_RE.match(member.name)
                    if not member.isfile() or m is None:
                        continue
                    idx, key, ext = int(m.group(1)), m.group(2), m.group(3)
                    if idx != cur:
                        if cur is not None:
                            yield cur, arrays, meta
                        cur, arrays, meta = idx, {}, {}
                    if ext == "json":
                        meta = json.loads(tar.extractfile(member).read())
                    elif want is None or key in want:
                        arrays[key] = decode_array(tar.extractfile(member).read(), ext.endswith(".gz"))
            if cur is not None:
                yield cur, arrays, meta
        except tarfile.TarError as e:
            raise CorruptShardError(f"{path}: not a readable tar ({e})") from None
        if expected_sha256 is not None:
            reader.drain()
            if reader.hash.hexdigest() != expected_sha256:
                raise CorruptShardError(f"{path} is corrupt: its sha256 differs from the manifest")


class ShardSet:
    """numpy-level view of a dataset folder: length, random access, streaming.

    Only shards listed in the manifest are visible (a partial dataset from a killed run loads).
    Opening checks each listed file's size (cheap); `verify=True` also checks every sha256.
    Sidecar indices are loaded lazily, verified against their hash, and cached.
    """

    def __init__(self, root, verify: bool = False):
        self.root = Path(root)
        self.manifest = verify_dataset(self.root) if verify else read_manifest(self.root)
        self.shards = sorted(self.manifest["shards"], key=lambda e: e["shard"])
        for e in self.shards:
            path = self.root / e["name"]
            if not path.is_file():
                raise ShardError(f"{path} is listed in the manifest but missing")
            if path.stat().st_size != e["bytes"]:
                raise CorruptShardError(f"{path} has {path.stat().st_size} bytes, the manifest says {e['bytes']}")
        self._starts = np.cumsum([0] + [e["count"] for e in self.shards]).tolist()
        self._indices: dict[int, list] = {}

    def __len__(self) -> int:
        return self._starts[-1]

    def keys(self) -> list[str]:
        return sorted({k for e in self.shards for k in e["keys"]})

    def _index(self, pos: int) -> list:
        if pos not in self._indices:
            e = self.shards[pos]
            data = (self.root / e["index"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != e["index_sha256"]:
                raise CorruptShardError(f"{self.root / e['index']} is corrupt: sha256 differs from the manifest")
            idx = json.loads(data)
            self._indices[pos] = idx["samples"], idx.get("compression", "none") == "gzip"
        return self._indices[pos]

    def locate(self, i: int) -> tuple[int, int]:
        """(position in self.shards, position inside that shard) of the i-th visible sample."""
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"sample {i} out of range for {len(self)} samples")
        pos = bisect_right(self._starts, i) - 1
        return pos, i - self._starts[pos]

    def get(self, i: int, keys=None) -> tuple[dict, dict, int]:
        """(arrays, meta, global sample index) of the i-th visible sample, by byte offsets."""
        pos, j = self.locate(i)
        samples, gz = self._index(pos)
        s = samples[j]
        names = s["arrays"] if keys is None else [k for k in keys if k in s["arrays"]]
        if keys is not None:
            missing = set(keys) - set(s["arrays"])
            if missing:
                raise KeyError(f"sample {s['index']} has no array(s) {sorted(missing)}")
        arrays = {}
        with open(self.root / self.shards[pos]["name"], "rb") as f:
            for k in names:
                off, size = s["arrays"][k]
                f.seek(off)
                data = f.read(size)
                if len(data) != size:
                    raise CorruptShardError(f"{self.shards[pos]['name']}: truncated member {k} of sample {s['index']}")
                arrays[k] = decode_array(data, gz)
        return arrays, s["meta"], s["index"]

    def iter_shards(self, positions: Iterable[int] | None = None, keys=None,
                    verify: bool = True) -> Iterator[tuple[int, dict, dict]]:
        """Stream (index, arrays, meta) shard by shard, hashing each shard as it is read."""
        for pos in range(len(self.shards)) if positions is None else positions:
            e = self.shards[pos]
            yield from iter_shard(self.root / e["name"], keys, e["sha256"] if verify else None)


class ShardSets:
    """Several datasets read as one (random access by position): training on a mix, such as clips of
    two framings. `get` returns the sample's index within its own dataset."""

    def __init__(self, roots):
        self.parts = [ShardSet(r) for r in roots]
        self._starts = np.cumsum([0] + [len(p) for p in self.parts]).tolist()

    def __len__(self) -> int:
        return self._starts[-1]

    def get(self, i: int, keys=None) -> tuple[dict, dict, int]:
        if not 0 <= i < len(self):
            raise IndexError(f"sample {i} out of range ({len(self)} samples)")
        part = bisect_right(self._starts, i) - 1
        return self.parts[part].get(i - self._starts[part], keys)


def open_shards(spec: str):
    """A dataset folder, or several separated by commas (read as one, `ShardSets`)."""
    roots = [r.strip() for r in str(spec).split(",") if r.strip()]
    return ShardSet(roots[0]) if len(roots) == 1 else ShardSets(roots)
