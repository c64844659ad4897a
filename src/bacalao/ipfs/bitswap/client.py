"""The bitswap client: fetch many blocks from several providers at once.

`Client.get_blocks` runs one session: it asks the given providers and a
bounded sample of connected peers (see `wants.Planner` for who is asked
what), verifies every block against its CID, keeps it in the local
`Blocks` store and yields it, in arrival order. Inbound messages reach
sessions through `receive` (blocks) and `on_presences`, routed by
multihash. A block that matches no CID any session asked for (and none
recently finished) is bytes the sender made up: it is dropped and the
sender banned from every running session. A session that receives
nothing for `no_progress_timeout` seconds raises `BlockNotFound` naming
the missing CIDs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import random
from collections import OrderedDict
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Iterable,
    Sequence,
)
from dataclasses import dataclass

import trio

from ..blocks import Blocks
from ..cid import CID, SHA2_256, InvalidCID, cid_from_prefix, multihash
from .exceptions import BitswapError, BlockNotFound
from .links import Link, LinkPool
from .wants import Planner
from .wire import Entry, Message, Presence, PresenceType

log = logging.getLogger(__name__)

DEFAULT_NO_PROGRESS = 30.0
MAX_FANOUT = 12
RECENT = 16384
RETRY_FAILED = 10.0


@dataclass(frozen=True, slots=True)
class _Block:
    peer: str
    key: bytes
    data: bytes


@dataclass(frozen=True, slots=True)
class _Presence:
    peer: str
    cid: CID
    have: bool


@dataclass(frozen=True, slots=True)
class _PeerEvent:
    peer: str
    ready: bool
    supports_have: bool = False
    ban: bool = False


_Event = _Block | _Presence | _PeerEvent


class _Session:
    """One running `get_blocks`: its wanted CIDs and its inbox."""

    def __init__(self, cids: Sequence[CID]) -> None:
        self.cids = {cid.multihash: cid for cid in cids}
        self.send, self.inbox = trio.open_memory_channel[_Event](math.inf)
        self.offered: set[str] = set()
        self.retry_at: dict[str, float] = {}


class Client:
    """Fetches blocks over bitswap; see the module docstring."""

    def __init__(
        self,
        blocks: Blocks,
        links: LinkPool,
        *,
        candidates: Callable[[], Sequence[str]],
        always: Callable[[], Sequence[str]],
        connect: Callable[[str], Awaitable[str]],
        on_new_blocks: Callable[[list[CID]], None],
        self_id: str,
        max_fanout: int = MAX_FANOUT,
    ) -> None:
        self._self_id = self_id
        self.blocks_received = 0
        self.bytes_received = 0
        self.duplicate_blocks = 0
        self.bad_blocks = 0
        self._blocks = blocks
        self._links = links
        self._candidates = candidates
        self._always = always
        self._connect = connect
        self._on_new_blocks = on_new_blocks
        self._max_fanout = max_fanout
        self._sessions: set[_Session] = set()
        self._wanted: dict[bytes, set[_Session]] = {}
        self._recent: OrderedDict[bytes, None] = OrderedDict()

    # -- fetching ------------------------------------------------------------

    async def get_block(
        self,
        cid: CID,
        *,
        providers: Sequence[str] | None = None,
        no_progress_timeout: float = DEFAULT_NO_PROGRESS,
    ) -> bytes:
        """One block (local, or from peers); `BlockNotFound` after the timeout."""
        blocks = self.get_blocks(
            [cid], providers=providers, no_progress_timeout=no_progress_timeout
        )
        try:
            async for _cid, data in blocks:
                return data
        finally:
            await blocks.aclose()
        raise BlockNotFound([cid], no_progress_timeout, 0)  # pragma: no cover

    async def get_blocks(
        self,
        cids: Iterable[CID],
        *,
        providers: Sequence[str] | None = None,
        no_progress_timeout: float = DEFAULT_NO_PROGRESS,
    ) -> AsyncGenerator[tuple[CID, bytes], None]:
        """Yield (cid, bytes) for every CID, as they arrive.

        `providers` are peer IDs or multiaddrs ending in /p2p/<id>; they
        are asked in addition to connected peers. Use it with
        `contextlib.aclosing` if you may stop early.
        """
        missing: list[CID] = []
        seen: set[bytes] = set()
        for cid in cids:
            if cid.multihash in seen:
                continue
            seen.add(cid.multihash)
            data = await self._blocks.get(cid)
            if data is None:
                missing.append(cid)
            else:
                yield cid, data
        if not missing:
            return
        targets = await self._resolve(providers or ())
        session = _Session(missing)
        planner = Planner(
            missing, now=trio.current_time(), stall=_stall(no_progress_timeout)
        )
        self._register(session)
        try:
            self._offer(session, planner, targets)
            run = self._run(session, planner, no_progress_timeout)
            async with contextlib.aclosing(run) as items:
                async for item in items:
                    yield item
        finally:
            self._send(planner.cancel_all())
            self._unregister(session)

    async def _run(
        self, session: _Session, planner: Planner, timeout: float
    ) -> AsyncGenerator[tuple[CID, bytes], None]:
        last_progress = trio.current_time()
        while not planner.done:
            now = trio.current_time()
            if now >= planner.next_deadline():
                self._offer(session, planner, ())
            self._send(planner.plan(now))
            if now - last_progress >= timeout:
                asked = len(planner.peers_asked)
                raise BlockNotFound(planner.missing(), timeout, asked)
            wake = min(planner.next_deadline(), last_progress + timeout)
            for event in await _next_events(session, wake):
                if isinstance(event, _Block):
                    cid = session.cids[event.key]
                    if not planner.on_block(event.peer, cid, trio.current_time()):
                        continue
                    last_progress = trio.current_time()
                    await self._blocks.put(cid, event.data)
                    self._on_new_blocks([cid])
                    yield cid, event.data
                elif isinstance(event, _Presence):
                    planner.on_presence(event.peer, event.cid, have=event.have)
                elif event.ready:
                    if event.peer in session.offered:
                        planner.add_peer(
                            event.peer,
                            has_haves=event.supports_have,
                            now=trio.current_time(),
                        )
                else:
                    planner.drop_peer(event.peer, ban=event.ban)

    def _offer(
        self, session: _Session, planner: Planner, providers: Sequence[str]
    ) -> None:
        """Open links to the providers, the external IPFS peers and a sample
        of connected peers; each joins the planner once its link is up (a
        `_PeerEvent`)."""
        now = trio.current_time()
        for peer, when in list(session.retry_at.items()):
            if when <= now:
                del session.retry_at[peer]
                session.offered.discard(peer)
        others = [p for p in self._candidates() if p not in session.offered]
        room = max(0, self._max_fanout - len(session.offered))
        chosen = [*providers, *self._always()]
        chosen += random.sample(others, min(room, len(others)))
        for peer in chosen:
            if peer in session.offered or peer == self._self_id:
                continue
            session.offered.add(peer)
            link = self._links.get(peer)
            if link.ready and link.failure is None:
                planner.add_peer(
                    peer, has_haves=link.supports_have, now=trio.current_time()
                )

    async def _resolve(self, providers: Sequence[str]) -> list[str]:
        """Peer IDs of the providers; those given by address are dialled
        (all at once); one that cannot be reached is logged and skipped."""
        peers = [p for p in providers if "/" not in p]

        async def dial(address: str) -> None:
            try:
                peers.append(await self._connect(address))
            except BitswapError as exc:
                log.warning("bitswap: provider skipped: %s", exc)

        async with trio.open_nursery() as nursery:
            for address in providers:
                if "/" in address:
                    nursery.start_soon(dial, address)
        return peers

    def _send(self, plan: dict[str, list[Entry]]) -> None:
        for peer, entries in plan.items():
            if entries:
                self._links.get(peer).send_wants(entries)

    # -- routing of inbound messages -----------------------------------------

    def receive(self, peer: str, msg: Message) -> None:
        """Route the blocks and presences of a message from `peer`."""
        for presence in msg.presences:
            self._route_presence(peer, presence)
        for block in msg.payload:
            try:
                key = cid_from_prefix(block.prefix, block.data).multihash
            except InvalidCID:
                key = b""
            self._route_block(peer, key, block.data)
        for data in msg.blocks:
            key = multihash(SHA2_256, hashlib.sha256(data).digest())
            self._route_block(peer, key, data)

    def on_link(self, link: Link) -> None:
        """A link came up or went down: tell the sessions that offered it."""
        event = _PeerEvent(
            link.peer_id, ready=link.failure is None, supports_have=link.supports_have
        )
        for session in self._sessions:
            if link.peer_id in session.offered:
                if not event.ready:  # offered again later, not on every tick
                    session.retry_at[link.peer_id] = trio.current_time() + RETRY_FAILED
                session.send.send_nowait(event)

    def _route_presence(self, peer: str, presence: Presence) -> None:
        have = presence.type == PresenceType.HAVE
        for session in self._wanted.get(presence.cid.multihash, ()):
            session.send.send_nowait(_Presence(peer, presence.cid, have))

    def _route_block(self, peer: str, key: bytes, data: bytes) -> None:
        sessions = self._wanted.get(key)
        if sessions:
            self.blocks_received += 1
            self.bytes_received += len(data)
            for session in sessions:
                session.send.send_nowait(_Block(peer, key, data))
        elif key in self._recent:
            self.duplicate_blocks += 1
        else:
            self._ban(peer)

    def _ban(self, peer: str) -> None:
        self.bad_blocks += 1
        log.warning("bitswap: %s sent a block no CID asked for; not asking it", peer)
        for session in self._sessions:
            session.send.send_nowait(_PeerEvent(peer, ready=False, ban=True))

    def _register(self, session: _Session) -> None:
        self._sessions.add(session)
        for key in session.cids:
            self._wanted.setdefault(key, set()).add(session)

    def _unregister(self, session: _Session) -> None:
        self._sessions.discard(session)
        for key in session.cids:
            holders = self._wanted.get(key)
            if holders is not None:
                holders.discard(session)
                if not holders:
                    del self._wanted[key]
            self._recent[key] = None
            self._recent.move_to_end(key)
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)


async def _next_events(session: _Session, deadline: float) -> list[_Event]:
    """Whatever is in the inbox, waiting until `deadline` for the first."""
    events: list[_Event] = []
    with trio.move_on_at(deadline):
        events.append(await session.inbox.receive())
    while True:
        try:
            events.append(session.inbox.receive_nowait())
        except trio.WouldBlock:
            return events


def _stall(no_progress_timeout: float) -> float:
    """How long a peer may owe blocks without delivering any."""
    return max(0.25, min(5.0, no_progress_timeout / 3))
