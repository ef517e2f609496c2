"""atomic_files: the old file or the new one, never half, with a plain file's permissions."""
from __future__ import annotations

import os
import stat

import pytest

from hoi_perception.atomic_files import atomic_write, atomic_write_bytes


def test_replaces_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "report.json"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "weights.bin"
    atomic_write_bytes(path, b"old")

    def half_then_fail(tmp):
        with open(tmp, "wb") as fh:
            fh.write(b"ha")
        raise KeyboardInterrupt  # e.g. Ctrl-C half-way

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half_then_fail)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["weights.bin"]
