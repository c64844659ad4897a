"""The disk blockstore: one file per multihash, pins that survive, gc, full disks."""

from __future__ import annotations

import base64
import errno
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from bacalao.ipfs import blockstore as blockstore_module
from bacalao.ipfs.blockstore import Blockstore
from bacalao.ipfs.cid import CID, DAG_PB
from bacalao.ipfs.exceptions import BlockNotFound, InvalidBlock, StorageFull
from bacalao.ipfs.exporter import cat, export
from bacalao.ipfs.importer import ImportOptions
from tests.full_disk import small_disk

from .test_exporter import tree_contents
from .test_importer_kubo import make_tree


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Blockstore]:
    opened = await Blockstore.open(tmp_path / "repo" / "ipfs")
    yield opened
    opened.close()


def block_files(store: Blockstore) -> list[Path]:
    return sorted(p for p in (store.root / "blocks").rglob("*") if p.is_file())


async def test_v0_and_v1_of_the_same_bytes_are_one_file(store: Blockstore) -> None:
    data = b"\x0a\x02\x08\x01"
    v0, v1 = CID.of(data), CID.of(data, version=1, codec=DAG_PB)
    await store.put(v0, data)
    await store.put(v1, data)
    assert len(block_files(store)) == 1
    assert await store.get(v1) == data
    assert await store.has(v0)


async def test_put_from_the_network_verifies_the_hash(store: Blockstore) -> None:
    with pytest.raises(InvalidBlock, match="does not hash"):
        await store.put(CID.of(b"right"), b"wrong")
    assert block_files(store) == []


async def test_a_damaged_block_reads_as_missing(store: Blockstore) -> None:
    cid = CID.of(b"precious")
    await store.put(cid, b"precious")
    block_files(store)[0].write_bytes(b"")  # as a crash before writeback may
    assert await store.get(cid) is None
    assert not await store.has(cid)


async def test_gc_keeps_pinned_dags_whole_and_removes_the_rest(
    store: Blockstore, tmp_path: Path
) -> None:
    kept = await store.add(make_tree(tmp_path / "kept", hidden=False))
    (tmp_path / "big").write_bytes(os.urandom(700_000))
    dropped = await store.add(tmp_path / "big", ImportOptions(cid_version=1))
    await store.add(tmp_path / "big", pin=False)  # the same data as CIDv0, unpinned
    stray = CID.of(b"a block nobody pins")
    await store.put(stray, b"a block nobody pins")

    before = await store.stat()
    assert await store.pin_rm(dropped.cid)
    result = await store.gc()

    after = await store.stat()
    assert result.blocks == before.blocks - after.blocks > 0
    assert result.bytes == before.bytes - after.bytes
    assert after.blocks == kept.blocks
    assert not await store.has(stray)
    await _export_equals(store, kept.cid, tmp_path / "kept", tmp_path / "out")


async def _export_equals(store: Blockstore, cid: CID, source: Path, out: Path) -> None:
    await export(store, cid, out)
    assert tree_contents(out) == tree_contents(source)


async def test_pins_survive_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "ipfs"
    first = await Blockstore.open(root)
    (tmp_path / "f").write_bytes(b"keep me")
    added = await first.add(tmp_path / "f", name="result")
    first.close()
    second = await Blockstore.open(root)
    assert [(p.cid, p.name) for p in await second.pin_ls()] == [(added.cid, "result")]
    assert (await second.gc()).blocks == 0
    assert b"".join([c async for c in cat(second, added.cid)]) == b"keep me"


async def test_pin_of_a_block_not_held_says_so(store: Blockstore) -> None:
    with pytest.raises(BlockNotFound):
        await store.pin_add(CID.of(b"elsewhere"))
    assert not await store.pin_rm(CID.of(b"elsewhere"))


async def test_gc_waits_for_a_writer_holding_the_store(store: Blockstore) -> None:
    cid = CID.of(b"half-written dag")
    finished = trio.Event()

    async def collect() -> None:
        await store.gc()
        finished.set()

    async with trio.open_nursery() as nursery:
        async with store.holding():
            await store.put(cid, b"half-written dag")
            nursery.start_soon(collect)
            await trio.sleep(0.2)  # gc had every chance to run; it must wait
            assert not finished.is_set()
            assert await store.has(cid)
            await store.pin_add(cid)
        with trio.fail_after(10):
            await finished.wait()
    assert await store.has(cid)


async def test_a_full_disk_raises_storage_full_and_leaves_no_partial_file(
    store: Blockstore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Injected at the write seam: half the bytes land, then ENOSPC.
    def half_then_full(path: Path, data: bytes) -> None:
        path.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blockstore_module, "_write_new_file", half_then_full)
    (tmp_path / "f").write_bytes(os.urandom(1000))
    with pytest.raises(StorageFull, match="no space left"):
        await store.add(tmp_path / "f")
    assert block_files(store) == []
    assert list((store.root / "tmp").iterdir()) == []


async def test_a_really_full_tmpfs_raises_storage_full(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(os.urandom(3 * 262_144))
    with small_disk(tmp_path / "disk", "512k") as disk:
        store = await Blockstore.open(disk.path / "ipfs")
        with pytest.raises(StorageFull, match="no space left"):
            await store.add(tmp_path / "big")
        for block in block_files(store):
            cid = CID.from_bytes(_multihash(block))
            assert cid.verify(block.read_bytes()), f"partial block {block}"
        assert list((store.root / "tmp").iterdir()) == []
        store.close()


def _multihash(path: Path) -> bytes:
    key = path.name.removesuffix(".data")
    return base64.b32decode(key + "=" * (-len(key) % 8))
