"""Finding and keeping peers: bootstrap dialing and peer exchange.

Every node keeps an `AddressBook` of the listen addresses peers announce
for themselves. Peer exchange (PX) is one RPC: the caller sends its own
record, the callee records it and answers with every record it knows. A node
dials its bootstrap peers (retrying with backoff for as long as it runs),
exchanges peers with whoever it connects to, and keeps dialing known peers
until it holds `target_peers` connections. A 3-node swarm whose nodes only
know node 0 thus becomes fully connected within one exchange, and a node
that restarts finds its way back through any peer it still knows. Peers
the node's allow-list leaves out (`admits`) are neither recorded nor dialed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from multiaddr import Multiaddr
from pydantic import BaseModel, Field

from .exceptions import P2PError
from .rpc import Method, Rpc

log = logging.getLogger(__name__)

MAX_RECORDS = 256
ADDR_TTL = 30  # seconds a lent address stays in libp2p's peerstore


class PeerRecord(BaseModel):
    """A peer and the multiaddrs (without /p2p/) it listens on."""

    ID: str
    Addrs: list[str] = Field(default_factory=list, max_length=32)


class PeerExchangeRequest(BaseModel):
    Self: PeerRecord


class PeerExchangeResponse(BaseModel):
    Peers: list[PeerRecord] = Field(default_factory=list, max_length=MAX_RECORDS)


PEER_EXCHANGE = Method(
    "/bacalao/peers/1.0.0", PeerExchangeRequest, PeerExchangeResponse
)


@dataclass
class AddressBook:
    """Announced listen addresses of the peers this node has heard of."""

    records: dict[str, PeerRecord] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)

    def add(self, record: PeerRecord) -> bool:
        """Record `record`; True when the peer was not known before."""
        is_new = record.ID not in self.records
        if record.Addrs:
            self.records[record.ID] = record
            self.seen[record.ID] = time.monotonic()
        return is_new and bool(record.Addrs)

    def sample(self, limit: int = MAX_RECORDS) -> list[PeerRecord]:
        recent = sorted(self.records, key=lambda p: -self.seen[p])[:limit]
        return [self.records[p] for p in recent]


class Discovery:
    """Keeps this node connected to its bootstrap peers and enough others."""

    def __init__(
        self,
        host: Any,
        rpc: Rpc,
        me: PeerRecord,
        bootstrap: list[str],
        *,
        target_peers: int = 8,
        interval: float = 2.0,
        admits: Callable[[str], bool] = lambda _peer: True,
    ) -> None:
        self._host = host
        self._admits = admits
        self._rpc = rpc
        self._me = me
        self._bootstrap = bootstrap
        self._target = target_peers
        self._interval = interval
        self.book = AddressBook()
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._wake = trio.Event()
        self.joined = trio.Event()  # set once this node exchanged peers with one
        rpc.register(PEER_EXCHANGE, self._on_exchange)

    def connected_peers(self) -> set[str]:
        return {str(p.to_base58()) for p in self._host.get_connected_peers()}

    def learn(self, record: PeerRecord) -> None:
        """Note a peer heard of elsewhere (e.g. node-info gossip)."""
        if record.ID == self._me.ID or not self._admits(record.ID):
            return
        if self.book.add(record):
            self._wake.set()

    def lend_addresses(self, peer_id: str) -> None:
        """Let libp2p dial `peer_id` at its announced addresses for a while.

        libp2p only knows the addresses of peers it dialed itself, so a peer
        whose (incoming) connection dropped cannot be redialed by an RPC.
        Not done for every peer heard of: with every address known, libp2p's
        own machinery connects far more peers, and an idle 30-node swarm took
        2 cores for half a minute after forming (0.6 without).
        """
        record = self.book.records.get(peer_id)
        if record is None:
            return
        try:
            addrs = [Multiaddr(a) for a in record.Addrs]
            self._host.get_peerstore().add_addrs(
                ID.from_base58(peer_id), addrs, ADDR_TTL
            )
        except Exception as exc:  # a malformed record off the network
            log.debug("addresses of %s not lent: %s", peer_id, exc)

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with trio.open_nursery() as nursery:
            for addr in self._bootstrap:
                nursery.start_soon(self._keep_bootstrap, addr)
            task_status.started()
            while True:
                await self._fill()
                with trio.move_on_after(self._interval):
                    await self._wake.wait()
                self._wake = trio.Event()

    async def _on_exchange(
        self, peer: str, request: PeerExchangeRequest
    ) -> PeerExchangeResponse:
        if peer == request.Self.ID:
            self.learn(request.Self)
        self.joined.set()
        return PeerExchangeResponse(
            Peers=[self._me, *self.book.sample(MAX_RECORDS - 1)]
        )

    async def exchange_with(self, peer: str) -> None:
        try:
            answer = await self._rpc.call(
                peer, PEER_EXCHANGE, PeerExchangeRequest(Self=self._me), timeout=5
            )
        except P2PError as exc:
            log.debug("peer exchange with %s failed: %s", peer, exc)
            return
        for record in answer.Peers:
            self.learn(record)
        self.joined.set()

    async def _keep_bootstrap(self, addr: str) -> None:
        try:
            info = info_from_p2p_addr(Multiaddr(addr))
        except Exception as exc:
            log.error("ignoring bootstrap peer %r: %s", addr, exc)
            return
        peer = str(info.peer_id.to_base58())
        if peer == self._me.ID:
            return
        if not self._admits(peer):
            log.warning("not dialing bootstrap peer %s: not on the allow-list", addr)
            return
        delay = 0.25
        while True:
            if peer not in self.connected_peers():
                if await self._dial(info):
                    delay = 0.25
                    await self.exchange_with(peer)
                else:
                    delay = min(delay * 2, 10.0)
            await trio.sleep(delay if peer not in self.connected_peers() else 1.0)

    async def _fill(self) -> None:
        connected = self.connected_peers()
        wanted = self._target - len(connected)
        now = time.monotonic()
        candidates = [
            r
            for p, r in self.book.records.items()
            if p not in connected
            and p != self._me.ID
            and self._retry_at.get(p, 0) <= now
        ]
        random.shuffle(candidates)
        async with trio.open_nursery() as nursery:
            for record in candidates[: max(wanted, 0)]:
                nursery.start_soon(self._dial_and_exchange, record)
        if connected and random.random() < 0.2:
            await self.exchange_with(random.choice(sorted(connected)))

    async def _dial_and_exchange(self, record: PeerRecord) -> None:
        try:
            addrs = [Multiaddr(a) for a in record.Addrs]
            info = PeerInfo(ID.from_base58(record.ID), addrs)
        except Exception:
            self.book.records.pop(record.ID, None)
            return
        if await self._dial(info):
            self._failures.pop(record.ID, None)
            self._retry_at.pop(record.ID, None)
            await self.exchange_with(record.ID)
            return
        failures = self._failures.get(record.ID, 0) + 1
        self._failures[record.ID] = failures
        self._retry_at[record.ID] = time.monotonic() + min(2**failures, 60)

    async def _dial(self, info: PeerInfo) -> bool:
        # py-libp2p refuses, for a minute, to redial a peer whose last dial
        # failed; we pace our own retries, so clear that before each attempt.
        self._host.get_network().unblock_peer(info.peer_id)
        try:
            with trio.fail_after(5):
                await self._host.connect(info)
        except Exception as exc:
            log.debug("dial %s failed: %s", info.peer_id, exc)
            return False
        return True
