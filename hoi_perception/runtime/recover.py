"""`hoi-perception recover OUT`: the bag of a run that was killed (SIGKILL, power loss) made readable.

A run writes its bag under OUT/.bag.*/ and moves it to OUT/bag when it closes; a killed run leaves
that MCAP file without its summary and footer, which readers reject, and no metadata.yaml. Its
records up to the cut are intact: they are copied, message by message, into a complete OUT/bag.
The report a run writes when it starts names this command.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from hoi_perception.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="the --out folder of the killed run")


def recover_bag(out: Path) -> tuple[Path, int]:
    """Copy every complete message of OUT/.bag.*/bag/*.mcap into a new OUT/bag; (path, messages)."""
    from mcap.exceptions import McapError
    from mcap.records import Channel, Message, Schema
    from mcap.stream_reader import StreamReader
    from rosbags.rosbag2 import StoragePlugin, Writer

    from hoi_perception.runtime.typestore import hoi_typestore

    final = out / "bag"
    if final.exists():
        raise CliError(f"{final} exists already: that run closed its bag, nothing to recover")
    partial = sorted(p for p in out.glob(".bag.*/bag/*.mcap") if p.parent.parent.name != ".bag.recovering")
    if not partial:
        raise CliError(f"no unfinished bag under {out} (looked for .bag.*/bag/*.mcap)")
    ts = hoi_typestore()
    work = out / ".bag.recovering"  # the new bag is built here, then moved into place whole
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    tmp = work / "bag"
    writer = Writer(tmp, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    schemas, conns, count = {}, {}, 0
    with partial[0].open("rb") as fh:
        try:
            for rec in StreamReader(fh, skip_magic=False).records:
                if isinstance(rec, Schema):
                    schemas[rec.id] = rec.name
                elif isinstance(rec, Channel):
                    conns[rec.id] = writer.add_connection(rec.topic, schemas[rec.schema_id], typestore=ts)
                elif isinstance(rec, Message) and rec.channel_id in conns:
                    writer.write(conns[rec.channel_id], rec.log_time, rec.data)
                    count += 1
        except (McapError, EOFError, ValueError):
            pass  # the cut: a record the run did not finish writing
    writer.close()
    tmp.replace(final)
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(partial[0].parent.parent, ignore_errors=True)
    return final, count


def main(args: argparse.Namespace) -> int:
    final, count = recover_bag(args.out)
    print(f"recovered {count} message(s) into {final}")
    return 0
