"""Outbound bitswap streams: one `Link` per peer, messages coalesced.

Kubo reads bitswap messages only on streams the *sender* opened and never
answers on them, so everything this node sends (wants, cancels, HAVEs,
blocks) goes out on a stream it opens itself. A `Link` opens one stream
per peer, negotiating 1.2.0, then 1.1.0, then 1.0.0, keeps it for as long
as it works, and writes whatever was queued since the last write as one
message (wants for the same CID replace each other, so a want and its
cancel never both go out). A write that fails is retried once on a fresh
stream; after that the link is closed and its owner told.

Queueing never blocks: callers that produce bytes (the server) wait for
room with `wait_room`, which bounds the bytes queued per peer.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import trio
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID

from ..cid import CID
from .wire import (
    Entry,
    Message,
    Payload,
    Presence,
    encode_frame,
    for_protocol,
    supports_have,
)

log = logging.getLogger(__name__)

TARGET_MESSAGE = 1024 * 1024
MAX_ENTRIES = 4096
OPEN_TIMEOUT = 10.0
WRITE_TIMEOUT = 30.0

_V = TypeVar("_V")


class Link:
    """The outbound half of bitswap to one peer."""

    def __init__(
        self,
        host: Any,
        peer_id: str,
        protocols: Sequence[str],
        on_change: Callable[[Link], None],
    ) -> None:
        self.peer_id = peer_id
        self.protocol: str | None = None
        self.failure: str | None = None
        self.queued_bytes = 0
        self._host = host
        self._protocols = [TProtocol(p) for p in protocols]
        self._on_change = on_change
        self._wants: dict[bytes, Entry] = {}
        self._presences: dict[bytes, Presence] = {}
        self._blocks: deque[tuple[CID, bytes]] = deque()
        self._work = trio.Event()
        self._room = trio.Event()
        self._ready = trio.Event()
        self._stream: Any = None
        self.scope = trio.CancelScope()

    @property
    def ready(self) -> bool:
        """True once the stream is open (or the link failed)."""
        return self._ready.is_set()

    @property
    def supports_have(self) -> bool:
        return supports_have(self.protocol)

    def send_wants(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self._wants[entry.cid.multihash] = entry
        self._work.set()

    def send_presence(self, presence: Presence) -> None:
        self._presences[presence.cid.multihash] = presence
        self._work.set()

    def send_block(self, cid: CID, data: bytes) -> None:
        self._blocks.append((cid, data))
        self.queued_bytes += len(data)
        self._work.set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def wait_room(self, limit: int) -> None:
        """Wait until fewer than `limit` block bytes are queued (or closed)."""
        while self.queued_bytes >= limit and self.failure is None:
            self._room = trio.Event()
            await self._room.wait()

    async def run(self) -> None:
        """Open the stream, then write queued messages until closed."""
        try:
            with self.scope:
                try:
                    await self._open()
                    self._ready.set()
                    self._on_change(self)
                    await self._write_forever()
                except (BaseLibp2pError, OSError, ValueError, trio.TooSlowError) as exc:
                    self.failure = str(exc) or type(exc).__name__
                    log.debug("bitswap link to %s: %s", self.peer_id, self.failure)
        finally:
            if self.failure is None:
                self.failure = "closed"
            self._ready.set()
            self._room.set()
            await self._reset()
            self._on_change(self)

    async def _write_forever(self) -> None:
        while True:
            await self._work.wait()
            self._work = trio.Event()
            while (msg := self._take()) is not None:
                frame = encode_frame(for_protocol(msg, self.protocol or ""))
                sent = sum(len(p.data) for p in msg.payload)
                await self._write(frame)
                self.queued_bytes -= sent
                self._room.set()

    def _take(self) -> Message | None:
        entries = _take_some(self._wants)
        presences = _take_some(self._presences)
        payload: list[Payload] = []
        size = 0
        while self._blocks and (not payload or size < TARGET_MESSAGE):
            cid, data = self._blocks[0]
            if payload and size + len(data) > TARGET_MESSAGE:
                break
            self._blocks.popleft()
            payload.append(Payload(cid.prefix(), data))
            size += len(data)
        if not (entries or presences or payload):
            return None
        return Message(
            entries=tuple(entries), payload=tuple(payload), presences=tuple(presences)
        )

    async def _open(self) -> None:
        with trio.fail_after(OPEN_TIMEOUT):
            stream = await self._host.new_stream(
                ID.from_base58(self.peer_id), self._protocols
            )
        self._stream = stream
        self.protocol = str(stream.get_protocol())

    async def _write(self, frame: bytes) -> None:
        try:
            with trio.fail_after(WRITE_TIMEOUT):
                await self._stream.write(frame)
            return
        except (BaseLibp2pError, OSError, trio.TooSlowError) as exc:
            log.debug("bitswap write to %s failed (%r); reopening", self.peer_id, exc)
        await self._reset()
        await self._open()
        with trio.fail_after(WRITE_TIMEOUT):
            await self._stream.write(frame)

    async def _reset(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        with (
            trio.CancelScope(shield=True),
            trio.move_on_after(1),
            contextlib.suppress(Exception),
        ):
            await stream.reset()


def _take_some(pending: dict[bytes, _V]) -> list[_V]:
    if len(pending) <= MAX_ENTRIES:
        out = list(pending.values())
        pending.clear()
        return out
    keys = list(pending)[:MAX_ENTRIES]
    return [pending.pop(k) for k in keys]


class LinkPool:
    """The links of one node, opened on first use and dropped when they fail.

    `on_change(link)` is called when a link becomes ready and when it
    closes (`link.failure` is then set).
    """

    def __init__(
        self,
        host: Any,
        protocols: Sequence[str],
        on_change: Callable[[Link], None],
    ) -> None:
        self._host = host
        self._protocols = tuple(protocols)
        self._on_change = on_change
        self._links: dict[str, Link] = {}
        self._nursery: trio.Nursery | None = None

    def attach(self, nursery: trio.Nursery | None) -> None:
        """Run links in `nursery` (None: bitswap stopped, open no more)."""
        self._nursery = nursery

    def get(self, peer_id: str) -> Link:
        """The live link to `peer_id`, opening one if there is none."""
        link = self._links.get(peer_id)
        if link is not None and link.failure is None:
            return link
        link = Link(self._host, peer_id, self._protocols, self._changed)
        if self._nursery is None:
            link.failure = "bitswap is not running"
            return link
        self._links[peer_id] = link
        self._nursery.start_soon(link.run)
        return link

    def existing(self, peer_id: str) -> Link | None:
        return self._links.get(peer_id)

    def close(self, peer_id: str) -> None:
        link = self._links.pop(peer_id, None)
        if link is not None:
            link.scope.cancel()

    def _changed(self, link: Link) -> None:
        if link.failure is not None and self._links.get(link.peer_id) is link:
            del self._links[link.peer_id]
        self._on_change(link)
