"""torch views of a shard folder: a map-style Dataset and a worker-aware IterableDataset.

The only module of the data engine that imports torch; `shards` does the reading.
Items are dicts of tensors (one per stored array, `keys` selects a subset); with
`with_meta=True` they also carry "meta" (the sample's JSON dict) and "index" (its global index).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from .shards import ShardSet


def _to_item(arrays: dict, meta: dict, index: int, with_meta: bool) -> dict:
    item = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    if with_meta:
        item["meta"] = meta
        item["index"] = index
    return item


class HOIShardDataset(Dataset):
    """Map-style dataset over every sample listed in `root`/manifest.json.

    Random access reads only the requested arrays by byte offset (sidecar index), so any
    sampler/shuffle works. `verify=True` checks every shard's sha256 when opening (reads the
    whole dataset once); without it only file sizes and index hashes are checked.
    """

    def __init__(self, root, keys: Sequence[str] | None = None, transform: Callable | None = None,
                 verify: bool = False, with_meta: bool = False):
        self.shards = ShardSet(root, verify=verify)
        self.keys = None if keys is None else list(keys)
        self.transform = transform
        self.with_meta = with_meta

    def __len__(self) -> int:
        return len(self.shards)

    def __getitem__(self, i: int) -> dict:
        arrays, meta, index = self.shards.get(int(i), self.keys)
        item = _to_item(arrays, meta, index, self.with_meta)
        return self.transform(item) if self.transform is not None else item


class HOIShardIterable(IterableDataset):
    """Streaming dataset: reads whole shards sequentially (hash-checked on the way).

    Shards are split across distributed ranks (`rank`/`world_size`, default from
    torch.distributed when initialised) and then across DataLoader workers, round-robin, so each
    sample is produced exactly once per epoch; a worker left without a shard yields nothing, so
    use at least as many shards as ranks x workers. `shuffle=True` permutes the shard order
    with (seed, epoch) (call `set_epoch`) and shuffles samples in a buffer of `buffer_size`.
    """

    def __init__(self, root, keys: Sequence[str] | None = None, transform: Callable | None = None,
                 shuffle: bool = False, seed: int = 0, buffer_size: int = 256, verify: bool = True,
                 with_meta: bool = False, rank: int | None = None, world_size: int | None = None):
        self.shards = ShardSet(root)
        self.keys = None if keys is None else list(keys)
        self.transform = transform
        self.shuffle, self.seed, self.buffer_size = shuffle, seed, buffer_size
        self.verify, self.with_meta = verify, with_meta
        if rank is None or world_size is None:
            dist = torch.distributed
            if dist.is_available() and dist.is_initialized():
                rank, world_size = dist.get_rank(), dist.get_world_size()
            else:
                rank, world_size = 0, 1
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.shards)

    def _my_shards(self) -> list[int]:
        order = np.arange(len(self.shards.shards))
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(order)
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        return order[self.rank::self.world_size][wid::nw].tolist()

    def __iter__(self):
        stream = self.shards.iter_shards(self._my_shards(), self.keys, verify=self.verify)
        if self.shuffle:
            stream = self._buffer_shuffle(stream)
        for index, arrays, meta in stream:
            item = _to_item(arrays, meta, index, self.with_meta)
            yield self.transform(item) if self.transform is not None else item

    def _buffer_shuffle(self, stream):
        info = get_worker_info()
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, info.id if info else 0])
        buf = []
        for x in stream:
            buf.append(x)
            if len(buf) >= self.buffer_size:
                yield buf.pop(int(rng.integers(len(buf))))
        while buf:
            yield buf.pop(int(rng.integers(len(buf))))
