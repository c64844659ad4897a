"""Factories for bitswap tests: real swarms on 127.0.0.1 running `Bitswap`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from multiaddr import Multiaddr

from bacalao.ipfs.bitswap import PROTOCOLS, Bitswap
from bacalao.ipfs.bitswap.wire import FrameDecoder, Message, decode_message
from bacalao.ipfs.blocks import MemoryBlocks
from bacalao.ipfs.cid import CID, RAW
from bacalao.p2p.host import Swarm

from ..p2p.conftest import WAIT, RunningSwarm, StartSwarm, start_swarm, wait_until

__all__ = [
    "MakeNode",
    "Node",
    "RawPeer",
    "connect",
    "make_node",
    "make_raw_peer",
    "raw_blocks",
    "start_swarm",
]


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


class RawPeer:
    """A swarm that speaks bitswap by hand (no `Bitswap`): it records every
    message sent to it and sends whatever a test tells it to, each message
    on a fresh stream as Kubo's server does."""

    def __init__(self, running: RunningSwarm) -> None:
        self.running = running
        self.received: list[tuple[str, Message]] = []
        self._arrived = trio.Event()
        for protocol in PROTOCOLS:
            running.swarm.host.set_stream_handler(TProtocol(protocol), self._on_stream)

    @property
    def peer_id(self) -> str:
        return self.running.swarm.peer_id

    async def _on_stream(self, stream: Any) -> None:
        decoder = FrameDecoder()
        peer = str(stream.muxed_conn.peer_id)
        with contextlib.suppress(Exception):
            while chunk := await stream.read(1 << 20):
                for body in decoder.feed(chunk):
                    self.received.append((peer, decode_message(body)))
                    self._arrived.set()

    async def wait_message(self, since: int = 0) -> list[tuple[str, Message]]:
        """Messages received after the first `since`, once there are any."""
        with trio.fail_after(WAIT):
            while len(self.received) <= since:
                self._arrived = trio.Event()
                await self._arrived.wait()
        return self.received[since:]

    async def dial(self, node: Node) -> None:
        info = info_from_p2p_addr(Multiaddr(node.swarm.p2p_addrs[0]))
        with trio.fail_after(WAIT):
            await self.running.swarm.host.connect(info)

    async def send(self, peer_id: str, raw: bytes, protocol: str = PROTOCOLS[0]) -> Any:
        """Open a stream, write `raw` (a frame, or junk) and close it."""
        with trio.fail_after(WAIT):
            stream = await self.running.swarm.host.new_stream(
                ID.from_base58(peer_id), [TProtocol(protocol)]
            )
            await stream.write(raw)
            await stream.close()
        return stream


@pytest.fixture
def make_raw_peer(start_swarm: StartSwarm) -> Callable[[], Awaitable[RawPeer]]:
    async def make() -> RawPeer:
        return RawPeer(await start_swarm())

    return make
