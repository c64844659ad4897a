"""Bitswap between real bacalao swarms on 127.0.0.1."""

from __future__ import annotations

import pytest
import trio

from bacalao.ipfs.bitswap import BlockNotFound
from bacalao.ipfs.cid import CID

from ..p2p.conftest import WAIT
from .bitswap_nodes import MakeNode, connect, make_node, raw_blocks, start_swarm

__all__ = ["make_node", "start_swarm"]  # fixtures this module uses


async def fetch_all(node, cids, **kwargs) -> dict[CID, bytes]:  # type: ignore[no-untyped-def]
    got: dict[CID, bytes] = {}
    with trio.fail_after(WAIT):
        async for cid, data in node.bitswap.get_blocks(cids, **kwargs):
            got[cid] = data
    return got


async def test_a_node_fetches_blocks_another_holds(make_node: MakeNode) -> None:
    server, client = await make_node(), await make_node()
    items = raw_blocks(20, size=5000)
    await server.hold(items)
    await connect(client, server)

    got = await fetch_all(client, [cid for cid, _ in items])

    assert got == dict(items)
    for cid, data in items:  # kept locally, so this node can serve them on
        assert await client.blocks.get(cid) == data
    assert server.bitswap.statistics().blocks_sent == 20


async def test_a_cid_nobody_has_fails_naming_it(make_node: MakeNode) -> None:
    server, client = await make_node(), await make_node()
    await connect(client, server)
    ((cid, _data),) = raw_blocks(1)

    with trio.fail_after(WAIT), pytest.raises(BlockNotFound) as caught:
        await client.bitswap.get_block(cid, no_progress_timeout=1.0)
    assert str(cid) in str(caught.value)
    assert caught.value.missing == (cid,)
