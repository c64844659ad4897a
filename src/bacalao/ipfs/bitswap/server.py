"""The bitswap server: answers peers' wants from a `Blocks` store.

Wants arrive through `on_wantlist`; each peer with wants waiting gets one
worker task that answers them in priority order: want-block → the block
(or DONT_HAVE if asked), want-have → HAVE / DONT_HAVE. A worker waits for
room on the peer's link before reading the next block, so at most
`max_bytes_in_flight` of block data is queued per peer. Blocks that
arrive later (`notify_new_blocks`) go to the peers whose wantlists hold
them. Decisions live in `ledger.py`; this module only does the I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import trio

from ..blocks import Blocks
from ..cid import CID
from .ledger import MAX_WANTS_PER_PEER, Answer, Ledger, Want, decide
from .links import Link, LinkPool
from .wire import Entry, Presence, PresenceType, WantType

log = logging.getLogger(__name__)

MAX_BYTES_IN_FLIGHT = 4 * 1024 * 1024


class Server:
    """Serves this node's blocks to the peers that want them."""

    def __init__(
        self,
        blocks: Blocks,
        links: LinkPool,
        *,
        max_wants: int = MAX_WANTS_PER_PEER,
        max_bytes_in_flight: int = MAX_BYTES_IN_FLIGHT,
    ) -> None:
        self.ledger = Ledger(max_wants=max_wants)
        self.blocks_sent = 0
        self.bytes_sent = 0
        self.wants_ignored = 0
        self._blocks = blocks
        self._links = links
        self._max_bytes = max_bytes_in_flight
        self._workers: set[str] = set()
        self._nursery: trio.Nursery | None = None

    def attach(self, nursery: trio.Nursery | None) -> None:
        """Run workers in `nursery` (None: bitswap stopped, start no more)."""
        self._nursery = nursery

    def on_wantlist(self, peer: str, entries: Iterable[Entry], *, full: bool) -> None:
        self.wants_ignored += self.ledger.receive(peer, entries, full=full)
        self._kick(peer)

    def notify_new_blocks(self, cids: Iterable[CID]) -> None:
        """Blocks now held here: send them to the peers that wanted them."""
        for cid in cids:
            for peer in self.ledger.peers_wanting(cid):
                self._kick(peer)

    def peer_gone(self, peer: str) -> None:
        self.ledger.forget(peer)

    def _kick(self, peer: str) -> None:
        if peer in self._workers or self._nursery is None:
            return
        if self.ledger.has_queue(peer):
            self._workers.add(peer)
            self._nursery.start_soon(self._serve, peer)

    async def _serve(self, peer: str) -> None:
        try:
            link = self._links.get(peer)
            await link.wait_ready()
            while link.failure is None:
                want = self.ledger.next_want(peer)
                if want is None:
                    return
                await self._answer(peer, link, want)
            log.debug("bitswap: dropping wants of %s: %s", peer, link.failure)
            self.ledger.forget(peer)
        finally:
            self._workers.discard(peer)

    async def _answer(self, peer: str, link: Link, want: Want) -> None:
        data: bytes | None = None
        if want.want_type == WantType.BLOCK or not link.supports_have:
            await link.wait_room(self._max_bytes)
            data = await self._blocks.get(want.cid)
            have = data is not None
        else:
            have = await self._blocks.has(want.cid)
        if self.ledger.wants(peer, want.cid) != want or link.failure is not None:
            return  # cancelled or changed while we looked
        answer = decide(want, have=have, peer_supports_have=link.supports_have)
        if answer == Answer.BLOCK and data is None:
            data = await self._blocks.get(want.cid)
            if data is None:
                return
        if answer == Answer.BLOCK and data is not None:
            link.send_block(want.cid, data)
            self.blocks_sent += 1
            self.bytes_sent += len(data)
        elif answer == Answer.HAVE:
            link.send_presence(Presence(want.cid, PresenceType.HAVE))
        elif answer == Answer.DONT_HAVE:
            link.send_presence(Presence(want.cid, PresenceType.DONT_HAVE))
        self.ledger.answered(peer, want, answer)
