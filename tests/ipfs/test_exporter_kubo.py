"""The exporter reads DAGs a real Kubo made, HAMT-sharded directories included."""

from __future__ import annotations

import os
from pathlib import Path

import trio

from bacalao.ipfs import dagpb, unixfs
from bacalao.ipfs.cid import CID
from bacalao.ipfs.exporter import export, ls
from bacalao.ipfs.unixfs import DataType

from .kubo import Kubo
from .test_exporter import tree_contents
from .test_importer_kubo import make_tree


class KuboBlocks:
    """`Blocks` (read side) over a Kubo repo's blockstore."""

    def __init__(self, kubo: Kubo) -> None:
        self.kubo = kubo

    async def has(self, cid: CID) -> bool:
        return await self.get(cid) is not None

    async def get(self, cid: CID) -> bytes | None:
        path = self.kubo.block_path(cid.multihash)
        if not await trio.to_thread.run_sync(path.exists):
            return None
        return await trio.to_thread.run_sync(path.read_bytes)

    async def put(self, cid: CID, data: bytes) -> None:
        raise AssertionError("read only")


async def test_export_of_kubos_tree(reference_kubo: Kubo, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", hidden=True)
    root = CID.parse(reference_kubo.add(tree))
    await export(KuboBlocks(reference_kubo), root, tmp_path / "out")
    assert tree_contents(tmp_path / "out") == tree_contents(tree)


async def test_ls_and_export_of_kubos_hamt_directory(
    reference_kubo: Kubo, tmp_path: Path
) -> None:
    big = tmp_path / "big"
    big.mkdir()
    names = {f"{i:05d}-{'x' * 200}" for i in range(1200)}  # > 256 KiB of links
    for name in names:
        (big / name).write_text(name[:5])
    root = CID.parse(reference_kubo.add(big))
    blocks = KuboBlocks(reference_kubo)
    top = dagpb.decode(await blocks.get(root) or b"")
    assert unixfs.decode(top.data or b"").type == DataType.HAMT_SHARD

    listing = await ls(blocks, root)
    assert {entry.name for entry in listing} == names
    assert {entry.size for entry in listing} == {5}
    await export(blocks, root, tmp_path / "out")
    assert set(os.listdir(tmp_path / "out")) == names
    assert (tmp_path / "out" / f"00042-{'x' * 200}").read_text() == "00042"
