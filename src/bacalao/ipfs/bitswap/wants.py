"""Which peer to ask for which block: a fetch session's decisions, no I/O.

A `Planner` holds the blocks a session still needs and what each peer has
said about them. The session feeds it events (a peer joined or left, HAVE,
DONT_HAVE, a verified block arrived, time passed) and sends the entries
`plan()` returns. The rules:

- at most `window` blocks are worked on at once (the rest wait in order);
- each is asked with a want-have (send-dont-have) of every 1.2.0 peer;
  peers on 1.0.0/1.1.0 cannot answer HAVE, so they are assumed to have
  everything until they stall;
- a block that some peer HAS is asked with a want-block of the least busy
  such peer with fewer than `per_peer` blocks in flight, so blocks spread
  over every provider;
- DONT_HAVE moves a block on to another peer; a peer that delivers
  nothing for `stall` seconds while it owes blocks loses them to others;
- blocks that nobody has are asked of every peer again each `stall`
  seconds (peers may have got them since, or joined);
- when a block arrives, every other peer that was asked for it gets a
  cancel; a banned peer (it sent bytes that matched no CID asked) is
  never asked again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..cid import CID
from .wire import Entry, WantType

PER_PEER = 32
WINDOW = 256
TOP_PRIORITY = 2**31 - 1

Plan = dict[str, list[Entry]]


@dataclass
class _Want:
    cid: CID
    priority: int
    haves: set[str] = field(default_factory=set)
    dont_haves: set[str] = field(default_factory=set)
    asked: set[str] = field(default_factory=set)
    at: str | None = None


@dataclass
class _Peer:
    id: str
    order: int
    has_haves: bool
    in_flight: set[bytes] = field(default_factory=set)
    busy_since: float = 0.0


class Planner:
    """The decisions of one fetch session (see the module docstring)."""

    def __init__(
        self,
        cids: Iterable[CID],
        *,
        now: float,
        stall: float,
        per_peer: int = PER_PEER,
        window: int = WINDOW,
    ) -> None:
        self._queue = deque(cids)
        self._active: dict[bytes, _Want] = {}
        self._peers: dict[str, _Peer] = {}
        self._banned: set[str] = set()
        self._out: dict[str, dict[bytes, Entry]] = {}
        self._stall = stall
        self._per_peer = per_peer
        self._window = window
        self._priority = TOP_PRIORITY
        self._next_broadcast = now + stall
        self._orders = 0
        self.peers_asked: set[str] = set()

    # -- what the session asks ----------------------------------------------

    @property
    def done(self) -> bool:
        return not self._queue and not self._active

    def missing(self) -> list[CID]:
        return [w.cid for w in self._active.values()] + list(self._queue)

    def knows(self, peer: str) -> bool:
        return peer in self._peers or peer in self._banned

    def next_deadline(self) -> float:
        """When `plan` has time-driven work (a stall check or a re-ask)."""
        deadline = self._next_broadcast
        for peer in self._peers.values():
            if peer.in_flight:
                deadline = min(deadline, peer.busy_since + self._stall)
        return deadline

    # -- events --------------------------------------------------------------

    def add_peer(self, peer: str, *, has_haves: bool, now: float) -> None:
        """A peer to ask (a provider, a connected peer), once its link is up."""
        if self.knows(peer):
            return
        self._orders += 1
        entry = _Peer(peer, self._orders, has_haves, busy_since=now)
        self._peers[peer] = entry
        for want in self._active.values():
            self._introduce(want, entry)

    def drop_peer(self, peer: str, *, ban: bool = False) -> None:
        """A peer that left (or, with `ban`, misbehaved): its blocks move on."""
        gone = self._peers.pop(peer, None)
        if ban:
            self._banned.add(peer)
        if gone is None:
            return
        self._out.pop(peer, None)
        for key in gone.in_flight:
            want = self._active.get(key)
            if want is not None:
                want.at = None
        for want in self._active.values():
            want.haves.discard(peer)
            want.asked.discard(peer)

    def on_presence(self, peer: str, cid: CID, *, have: bool) -> None:
        want = self._active.get(cid.multihash)
        if want is None or peer not in self._peers:
            return
        if have:
            want.haves.add(peer)
            want.dont_haves.discard(peer)
            return
        want.haves.discard(peer)
        want.dont_haves.add(peer)
        if want.at == peer:
            self._unassign(want)

    def on_block(self, peer: str, cid: CID, now: float) -> bool:
        """A verified block arrived; False if this session no longer wants it."""
        want = self._active.pop(cid.multihash, None)
        if want is None:
            return False
        if want.at is not None and want.at in self._peers:
            self._peers[want.at].in_flight.discard(cid.multihash)
        sender = self._peers.get(peer)
        if sender is not None:
            sender.busy_since = now
        for other in want.asked - {peer}:
            if other in self._peers:
                self._emit(other, Entry(cid, cancel=True))
        return True

    def plan(self, now: float) -> Plan:
        """The entries to send now, per peer."""
        self._activate()
        self._check_stalls(now)
        if now >= self._next_broadcast:
            self._next_broadcast = now + self._stall
            self._reask_unprovided()
        self._assign(now)
        out, self._out = self._out, {}
        return {peer: list(entries.values()) for peer, entries in out.items()}

    def cancel_all(self) -> Plan:
        """Cancels for everything still asked (the session is ending)."""
        for want in self._active.values():
            for peer in want.asked:
                if peer in self._peers:
                    self._emit(peer, Entry(want.cid, cancel=True))
        out, self._out = self._out, {}
        return {peer: list(entries.values()) for peer, entries in out.items()}

    # -- rules ---------------------------------------------------------------

    def _activate(self) -> None:
        while self._queue and len(self._active) < self._window:
            cid = self._queue.popleft()
            if cid.multihash in self._active:
                continue
            want = _Want(cid, self._priority)
            self._priority = max(1, self._priority - 1)
            self._active[cid.multihash] = want
            for peer in self._peers.values():
                self._introduce(want, peer)

    def _introduce(self, want: _Want, peer: _Peer) -> None:
        if not peer.has_haves:
            want.haves.add(peer.id)
            return
        want.asked.add(peer.id)
        self.peers_asked.add(peer.id)
        self._emit(
            peer.id,
            Entry(
                want.cid, want.priority, want_type=WantType.HAVE, send_dont_have=True
            ),
        )

    def _check_stalls(self, now: float) -> None:
        for peer in self._peers.values():
            if not peer.in_flight or now - peer.busy_since < self._stall:
                continue
            for key in list(peer.in_flight):
                want = self._active.get(key)
                if want is None:
                    peer.in_flight.discard(key)
                    continue
                want.haves.discard(peer.id)
                want.dont_haves.add(peer.id)
                self._unassign(want)
                self._emit(peer.id, Entry(want.cid, cancel=True))

    def _reask_unprovided(self) -> None:
        for want in self._active.values():
            if want.at is None and not want.haves:
                want.dont_haves.clear()
                for peer in self._peers.values():
                    self._introduce(want, peer)

    def _assign(self, now: float) -> None:
        if not any(len(p.in_flight) < self._per_peer for p in self._peers.values()):
            return
        for key, want in self._active.items():
            if want.at is not None or not want.haves:
                continue
            best: _Peer | None = None
            for peer_id in want.haves:
                peer = self._peers.get(peer_id)
                if peer is None or len(peer.in_flight) >= self._per_peer:
                    continue
                if best is None or (len(peer.in_flight), peer.order) < (
                    len(best.in_flight),
                    best.order,
                ):
                    best = peer
            if best is not None:
                self._ask_block(key, want, best, now)

    def _ask_block(self, key: bytes, want: _Want, peer: _Peer, now: float) -> None:
        if not peer.in_flight:
            peer.busy_since = now
        peer.in_flight.add(key)
        want.at = peer.id
        want.asked.add(peer.id)
        self.peers_asked.add(peer.id)
        self._emit(
            peer.id,
            Entry(want.cid, want.priority, send_dont_have=peer.has_haves),
        )

    def _unassign(self, want: _Want) -> None:
        if want.at is not None and want.at in self._peers:
            self._peers[want.at].in_flight.discard(want.cid.multihash)
        want.at = None

    def _emit(self, peer: str, entry: Entry) -> None:
        self._out.setdefault(peer, {})[entry.cid.multihash] = entry
