"""Factories for bitswap tests: real swarms on 127.0.0.1 running `Bitswap`."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import trio

from bacalao.ipfs.bitswap import PROTOCOLS, Bitswap
from bacalao.ipfs.blocks import MemoryBlocks
from bacalao.ipfs.cid import CID, RAW
from bacalao.p2p.host import Swarm

from ..p2p.conftest import WAIT, RunningSwarm, StartSwarm, start_swarm, wait_until

__all__ = ["MakeNode", "Node", "connect", "make_node", "raw_blocks", "start_swarm"]


@dataclass
class Node:
    """A swarm, its block store and its bitswap."""

    running: RunningSwarm
    blocks: MemoryBlocks
    bitswap: Bitswap

    @property
    def swarm(self) -> Swarm:
        return self.running.swarm

    @property
    def peer_id(self) -> str:
        return self.swarm.peer_id

    async def hold(self, items: Sequence[tuple[CID, bytes]]) -> None:
        for cid, data in items:
            await self.blocks.put(cid, data)
        self.bitswap.notify_new_blocks(cid for cid, _ in items)


class MakeNode(Protocol):
    def __call__(
        self, *, protocols: Sequence[str] = PROTOCOLS, **kwargs: Any
    ) -> Awaitable[Node]: ...


@pytest.fixture
def make_node(nursery: trio.Nursery, start_swarm: StartSwarm) -> MakeNode:
    """Start a swarm with bitswap (and the given options) on 127.0.0.1."""

    async def make(*, protocols: Sequence[str] = PROTOCOLS, **kwargs: Any) -> Node:
        running = await start_swarm()
        blocks = MemoryBlocks()
        bitswap = Bitswap(running.swarm, blocks, protocols=protocols, **kwargs)
        with trio.fail_after(WAIT):
            await nursery.start(bitswap.run)
        return Node(running, blocks, bitswap)

    return make


async def connect(a: Node, b: Node) -> None:
    """Dial b from a and wait until both see the connection."""
    with trio.fail_after(WAIT):
        await a.bitswap.connect(b.swarm.p2p_addrs[0])
    await wait_until(lambda: a.peer_id in b.swarm.connected_peers())


def raw_blocks(count: int, size: int = 1000) -> list[tuple[CID, bytes]]:
    """`count` random raw-leaf blocks (CIDv1)."""
    out = []
    for _ in range(count):
        data = os.urandom(size)
        out.append((CID.of(data, version=1, codec=RAW), data))
    return out
