"""Driver of the synthetic data engine: samples -> shards + manifest, parallel and resumable.

`generate_dataset` calls ``make_sample(kind, sample_seed) -> (arrays, meta)`` for every sample
index, in worker processes, and writes the results in index order through `ShardWriter`. The seed
of sample i is derived from (seed, i) alone (`sample_seed`), and the writer consumes results in
index order, so the bytes do not depend on the worker count or on scheduling.
"""
from __future__ import annotations

import errno
import json
import multiprocessing as mp
import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from . import shards as S

DEFAULT_SHARD_SIZE = 256
_TMP_SUFFIX = ".tmp"


class DatasetMismatchError(ValueError):
    """The folder holds a dataset made with different arguments."""


class DiskFullError(OSError):
    """The disk filled up while writing; finished shards stay listed and the run can resume."""


def sample_seed(seed: int, index: int) -> int:
    """Seed of sample `index`: the first 64-bit word of SeedSequence(seed, spawn_key=(index,)),
    i.e. of ``np.random.SeedSequence(seed).spawn(index + 1)[index]``."""
    return int(np.random.SeedSequence(int(seed), spawn_key=(int(index),)).generate_state(1, dtype=np.uint64)[0])


# Worker-process state, set once per worker by _init_worker (the samplers' renderer lives there).
_WORKER: dict = {}


def _init_worker(make_sample, kind, seed, worker_init):
    _WORKER.update(make_sample=make_sample, kind=kind, seed=seed)
    if worker_init is not None:
        worker_init()


def _make_one(index: int):
    arrays, meta = _WORKER["make_sample"](_WORKER["kind"], sample_seed(_WORKER["seed"], index))
    return index, arrays, meta


def _check_sample(index, result):
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"make_sample must return (arrays, meta); sample {index} returned {type(result).__name__}")
    arrays, meta = result
    if not isinstance(arrays, dict) or not all(isinstance(v, np.ndarray) for v in arrays.values()):
        raise TypeError(f"sample {index}: arrays must be a dict of numpy arrays")
    return arrays, meta


def _is_disk_full(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)


def _config(kind, n, seed, shard_size, compression, generator_version, params) -> dict:
    return {
        "format": S.FORMAT,
        "format_version": S.FORMAT_VERSION,
        "generator_version": str(generator_version),
        "kind": kind,
        "seed": int(seed),
        "requested": int(n),
        "shard_size": int(shard_size),
        "compression": compression,
        # Round-trip through canonical JSON so a resumed run compares like with like.
        "params": json.loads(S.canonical_json(params or {})),
    }


def _validate(kind, n, seed, shard_size, workers, compression):
    if not isinstance(kind, str) or not kind:
        raise ValueError("kind must be a non-empty string")
    for name, v in (("n", n), ("shard_size", shard_size), ("seed", seed), ("workers", workers)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {v!r}")
    if n <= 0:
        raise ValueError(f"n must be positive (got {n}): there is nothing to generate")
    if shard_size <= 0:
        raise ValueError(f"shard_size must be positive (got {shard_size})")
    if seed < 0:
        raise ValueError(f"seed must be non-negative (got {seed})")
    if workers < 0:
        raise ValueError(f"workers must be >= 0 (got {workers})")
    if compression not in S.COMPRESSIONS:
        raise ValueError(f"compression must be one of {S.COMPRESSIONS}, got {compression!r}")


def _prepare_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(e.errno, f"cannot create the output folder {out}: {e.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"output folder {out} is not writable")


def _resume_state(out: Path, config: dict) -> dict:
    """Manifest to continue from: a new one, or the existing one after checking its arguments
    and the hashes of the shards it lists (missing shards are dropped and rebuilt)."""
    if not (out / S.MANIFEST).exists():
        if any(out.glob("shard-*.tar")):
            raise DatasetMismatchError(f"{out} holds shard files but no {S.MANIFEST}; use an empty folder")
        return {**config, "shards": []}
    m = S.read_manifest(out)
    diff = [k for k in config if m.get(k) != config[k]]
    if diff:
        details = "; ".join(f"{k}: existing {m.get(k)!r} vs requested {config[k]!r}" for k in diff)
        raise DatasetMismatchError(f"{out} already holds a dataset made with different arguments ({details}). "
                                   "Use another folder, or the same arguments to resume.")
    kept = []
    for e in m["shards"]:
        if not (out / e["name"]).is_file() or not (out / e["index"]).is_file():
            warnings.warn(f"{e['name']} is listed but missing; it will be generated again", stacklevel=4)
            continue
        S.verify_shard(out, e)  # raises CorruptShardError with a clear message
        kept.append(e)
    m["shards"] = kept
    return m


def shard_indices(shard_id: int, shard_size: int, n: int) -> range:
    """Global sample indices of shard `shard_id`."""
    return range(shard_id * shard_size, min(n, (shard_id + 1) * shard_size))


def plan_dataset(out_dir, kind: str, n: int, seed: int, shard_size: int = DEFAULT_SHARD_SIZE, workers: int = 0,
                 generator_version: str = "0", params: dict | None = None,
                 compression: str = "none") -> tuple[Path, dict, list[int]]:
    """Check the arguments and the folder: (folder, manifest to continue from, shard ids still to make).

    Shared by `generate_dataset` and the Ray batch (hoi_perception.batch), so both resume alike.
    """
    _validate(kind, n, seed, shard_size, workers, compression)
    out = Path(out_dir)
    _prepare_dir(out)
    config = _config(kind, n, seed, shard_size, compression, generator_version, params)
    manifest = _resume_state(out, config)
    for stale in out.glob("shard-*" + _TMP_SUFFIX):  # left by a killed run; never listed
        stale.unlink()
    n_shards = -(-n // shard_size)
    done = {e["shard"] for e in manifest["shards"]}
    return out, manifest, [j for j in range(n_shards) if j not in done]


def write_shard(out_dir, shard_id: int, shard_size: int, n: int, kind: str, seed: int, make_sample: Callable,
                compression: str = "none") -> dict:
    """Make and write one whole shard in this process; return its manifest entry (the caller lists it).

    The same samples, in the same order, through the same writer as `generate_dataset`: same bytes.
    """
    with S.ShardWriter(Path(out_dir), shard_id, compression) as writer:
        for index in shard_indices(shard_id, shard_size, n):
            arrays, meta = _check_sample(index, make_sample(kind, sample_seed(seed, index)))
            writer.add(index, arrays, meta)
        return writer.close()


def generate_dataset(out_dir, kind: str, n: int, seed: int, make_sample: Callable, shard_size: int = DEFAULT_SHARD_SIZE,
                     workers: int = 2, progress: bool = True, generator_version: str = "0", params: dict | None = None,
                     worker_init: Callable | None = None, compression: str = "none", mp_context: str = "spawn",
                     chunksize: int = 1) -> dict:
    """Generate `n` samples of `kind` into sharded `out_dir`; return the final manifest.

    make_sample(kind, sample_seed) -> (dict[str, ndarray], meta dict): a picklable top-level
        callable. sample_seed = `sample_seed(seed, index)`.
    workers: processes (spawn context by default, as the samplers hold OpenGL contexts);
        0 or 1 runs in this process. `worker_init()` runs once in each worker before its first
        sample (and once here when running in-process), e.g. to build the renderer.
    Resumable: re-running with the same arguments verifies the finished shards' hashes and
    generates only the missing shards; other arguments on a non-empty folder raise
    DatasetMismatchError. Shard i holds samples [i*shard_size, (i+1)*shard_size).
    A full disk raises DiskFullError; the manifest still lists the finished shards.
    """
    out, manifest, todo = plan_dataset(out_dir, kind, n, seed, shard_size, workers, generator_version, params,
                                       compression)
    indices = [i for j in todo for i in shard_indices(j, shard_size, n)]

    try:
        S.write_manifest(out, manifest)
        if indices:
            _run(out, manifest, indices, shard_size, n, kind, seed, make_sample, workers, worker_init,
                 compression, mp_context, chunksize, progress)
    except OSError as e:
        if _is_disk_full(e):
            listed = len(manifest["shards"])
            raise DiskFullError(e.errno, f"disk full while writing {out}: {listed} finished shard(s) stay listed in "
                                         f"{S.MANIFEST}; free space and re-run with the same arguments to resume") from e
        raise
    return S.read_manifest(out)


def _run(out, manifest, indices, shard_size, n, kind, seed, make_sample, workers, worker_init, compression,
         mp_context, chunksize, progress):
    from tqdm import tqdm

    bar = tqdm(total=n, initial=n - len(indices), unit="sample", desc=f"{kind} -> {out.name}", disable=not progress)
    writer = None
    pool = None
    try:
        if workers <= 1:
            _init_worker(make_sample, kind, seed, worker_init)
            results = map(_make_one, indices)
        else:
            ctx = mp.get_context(mp_context)
            pool = ctx.Pool(min(workers, len(indices)), initializer=_init_worker,
                            initargs=(make_sample, kind, seed, worker_init))
            results = pool.imap(_make_one, indices, chunksize=chunksize)
        for index, *result in results:
            arrays, meta = _check_sample(index, tuple(result))
            shard_id = index // shard_size
            if writer is None:
                writer = S.ShardWriter(out, shard_id, compression)
            writer.add(index, arrays, meta)
            bar.update(1)
            if index + 1 == min(n, (shard_id + 1) * shard_size):  # last sample of this shard
                entry = writer.close()
                writer = None
                manifest["shards"].append(entry)
                S.write_manifest(out, manifest)
        if pool is not None:
            pool.close()
            pool.join()
            pool = None
    finally:
        if writer is not None:
            writer.abort()
        if pool is not None:
            pool.terminate()
            pool.join()
        _WORKER.clear()
        bar.close()
