"""The server's ledger: what each peer wants from this node, and what to
answer. Pure bookkeeping, no I/O; `server.py` performs the answers.

A want stays in a peer's wantlist until it is answered with the block (a
want-block) or a HAVE (a want-have), or cancelled. A DONT_HAVE does not
end it: if the block arrives later (`peers_wanting`), the peer gets it.
Each peer's wantlist is bounded (`max_wants`, Kubo's 1024 by default);
wants beyond it are ignored, so a peer cannot grow our memory without
bound.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ..cid import CID
from .wire import Entry, WantType

MAX_WANTS_PER_PEER = 1024


@dataclass(frozen=True, slots=True)
class Want:
    """One live want of one peer."""

    cid: CID
    priority: int
    want_type: WantType
    send_dont_have: bool


class Answer(Enum):
    """What to send for a want, given whether we hold the block."""

    BLOCK = "block"
    HAVE = "have"
    DONT_HAVE = "dont-have"
    NOTHING = "nothing"


def decide(want: Want, *, have: bool, peer_supports_have: bool) -> Answer:
    """The answer to `want`. Peers on 1.0.0/1.1.0 cannot take HAVE or
    DONT_HAVE, so a want-have from them is served as a want-block."""
    if have:
        if want.want_type == WantType.BLOCK or not peer_supports_have:
            return Answer.BLOCK
        return Answer.HAVE
    if want.send_dont_have and peer_supports_have:
        return Answer.DONT_HAVE
    return Answer.NOTHING


class _PeerWants:
    """A peer's wantlist plus its queue of wants waiting for an answer."""

    def __init__(self) -> None:
        self.wants: dict[bytes, Want] = {}
        self.queue: list[tuple[int, int, bytes]] = []
        self.queued: set[bytes] = set()


class Ledger:
    """Every peer's wantlist and the order in which to answer them."""

    def __init__(self, *, max_wants: int = MAX_WANTS_PER_PEER) -> None:
        self._max = max_wants
        self._peers: dict[str, _PeerWants] = {}
        self._by_cid: dict[bytes, set[str]] = {}
        self._seq = itertools.count()

    def receive(self, peer: str, entries: Iterable[Entry], *, full: bool) -> int:
        """Apply a peer's wantlist update; returns how many wants it ignored
        (over the bound). New and changed wants are queued for an answer."""
        if full:
            self.forget(peer)
        book = self._peers.setdefault(peer, _PeerWants())
        ignored = 0
        for entry in entries:
            key = entry.cid.multihash
            if entry.cancel:
                self._remove(peer, book, key)
                continue
            old = book.wants.get(key)
            if old is None and len(book.wants) >= self._max:
                ignored += 1
                continue
            kind = entry.want_type
            if old is not None and old.want_type == WantType.BLOCK:
                kind = WantType.BLOCK  # not downgraded by a later want-have
            want = Want(entry.cid, entry.priority, kind, entry.send_dont_have)
            book.wants[key] = want
            self._by_cid.setdefault(key, set()).add(peer)
            self._enqueue(book, key, want.priority)
        return ignored

    def next_want(self, peer: str) -> Want | None:
        """The highest-priority want of `peer` still waiting for an answer."""
        book = self._peers.get(peer)
        while book is not None and book.queue:
            _prio, _seq, key = heapq.heappop(book.queue)
            if key not in book.queued:
                continue  # cancelled, or queued again further on
            book.queued.discard(key)
            want = book.wants.get(key)
            if want is not None:
                return want
        return None

    def answered(self, peer: str, want: Want, answer: Answer) -> None:
        """Record what was sent: a block or a HAVE ends the want."""
        if answer in (Answer.BLOCK, Answer.HAVE):
            book = self._peers.get(peer)
            if book is not None and book.wants.get(want.cid.multihash) == want:
                self._remove(peer, book, want.cid.multihash)

    def peers_wanting(self, cid: CID) -> list[str]:
        """Peers whose wantlist holds `cid`; their wants are queued again."""
        key = cid.multihash
        peers = sorted(self._by_cid.get(key, ()))
        for peer in peers:
            book = self._peers[peer]
            self._enqueue(book, key, book.wants[key].priority)
        return peers

    def wants(self, peer: str, cid: CID) -> Want | None:
        book = self._peers.get(peer)
        return None if book is None else book.wants.get(cid.multihash)

    def has_queue(self, peer: str) -> bool:
        book = self._peers.get(peer)
        return book is not None and bool(book.queued)

    def forget(self, peer: str) -> None:
        """Drop everything a peer wanted (it left, or sent a full wantlist)."""
        book = self._peers.pop(peer, None)
        if book is None:
            return
        for key in book.wants:
            holders = self._by_cid.get(key)
            if holders is not None:
                holders.discard(peer)
                if not holders:
                    del self._by_cid[key]

    def wantlist_size(self, peer: str) -> int:
        book = self._peers.get(peer)
        return 0 if book is None else len(book.wants)

    def _enqueue(self, book: _PeerWants, key: bytes, priority: int) -> None:
        if key in book.queued:
            return
        book.queued.add(key)
        heapq.heappush(book.queue, (-priority, next(self._seq), key))
        if len(book.queue) > 4 * self._max:
            # stale entries left by cancels: rebuild from what is queued
            book.queue = [
                (-book.wants[k].priority, next(self._seq), k) for k in book.queued
            ]
            heapq.heapify(book.queue)

    def _remove(self, peer: str, book: _PeerWants, key: bytes) -> None:
        if book.wants.pop(key, None) is None:
            return
        book.queued.discard(key)
        if not book.queued:
            book.queue.clear()
        holders = self._by_cid.get(key)
        if holders is not None:
            holders.discard(peer)
            if not holders:
                del self._by_cid[key]
