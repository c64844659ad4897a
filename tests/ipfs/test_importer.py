"""Importer behaviour beyond CIDs: refusals, cancellation, parallel writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from bacalao.ipfs.blocks import MemoryBlocks
from bacalao.ipfs.blockstore import Blockstore
from bacalao.ipfs.cid import CID
from bacalao.ipfs.exceptions import ImportFailed, StorageFull
from bacalao.ipfs.importer import ImportOptions, add_path, import_path
from bacalao.ipfs.writer import ParallelWriter


def test_a_fifo_in_a_tree_fails_the_add_naming_it(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "pipe")
    with pytest.raises(ImportFailed, match="pipe: not a file, directory or symlink"):
        import_path(tmp_path / "d", MemoryBlocks())


def test_a_missing_path_says_so(tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="No such file"):
        import_path(tmp_path / "nope", MemoryBlocks())


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="cid_version"):
        ImportOptions(cid_version=2).layout()


async def test_add_stops_when_cancelled(tmp_path: Path) -> None:
    class SlowSink(MemoryBlocks):
        def put_block(self, cid: CID, data: bytes) -> None:
            trio.from_thread.run(trio.sleep, 0.001)
            super().put_block(cid, data)

    (tmp_path / "big").write_bytes(os.urandom(4000 * 64))
    sink = SlowSink()
    with trio.move_on_after(0.2) as scope:
        await add_path(tmp_path / "big", sink, ImportOptions(chunk_size=64))
    assert scope.cancelled_caught
    assert 0 < len(sink.blocks) < 4000


async def test_cancelled_store_add_pins_nothing(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(os.urandom(2 << 20))
    store = await Blockstore.open(tmp_path / "ipfs")
    with trio.CancelScope() as scope:
        scope.cancel()
        await store.add(tmp_path / "big", ImportOptions(chunk_size=1024))
    assert await store.pin_ls() == []
    assert (await store.stat()).blocks == 0
    store.close()


def test_parallel_writer_raises_the_first_failure() -> None:
    class FullAfterThree(MemoryBlocks):
        def put_block(self, cid: CID, data: bytes) -> None:
            if len(self.blocks) >= 3:
                raise StorageFull("disk full")
            super().put_block(cid, data)

    def write_fifty(writer: ParallelWriter) -> None:
        with writer:
            for i in range(50):
                writer.put_block(CID.of(bytes([i])), bytes([i]))

    sink = FullAfterThree()
    with pytest.raises(StorageFull):
        write_fifty(ParallelWriter(sink, threads=1))
    assert len(sink.blocks) == 3
