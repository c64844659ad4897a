"""Telling the network about this node, and listening to the others.

- Node info: published on the node-info topic when something in it
  changes (capacity, mostly; at most once a second), and otherwise every
  `info_interval` or less often in a big swarm (about one a second in all).
- Heartbeats: a small message on the health topic. Every message costs
  every node in the swarm CPU (a gossiped message reaches each node about
  D times), so the swarm has a budget of about two heartbeats a second in
  all: the interval grows with the number of nodes. Each carries its
  interval, so receivers know when to expect the next, and how many nodes
  its sender knows of. A crashed node is noticed sooner than its missed
  heartbeats: its peers see the connection drop and probe it (NodeManager).
- Node tables: every node info travels as its node signed it, so a node
  table (relayed infos) cannot speak for anyone: entries that fail their
  signature are dropped and counted, as is a `Self` not from the caller.
  A node that joins introduces itself to a few peers and asks
  them for every node they know (the `nodes` RPC) instead of waiting for
  each node's next publish; then it publishes its info again, twice, as
  its gossip mesh forms (its very first publish had no mesh to go to).
  A node hearing a heartbeat from one that knows more nodes than it does
  asks that one for its table, so a node missed by gossip reaches every
  list within a few heartbeats, at any swarm size; and now and then a
  node asks one peer anyway, to repair lost gossip.

Received node info and heartbeats feed the `NodeManager`; node info also
feeds peer discovery with each node's listen addresses.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import trio

from ..models.node import NodeInfo
from ..models.wire import Heartbeat, NodesRequest, NodesResponse, SignedNodeInfo
from ..p2p.discovery import PeerRecord
from ..p2p.exceptions import P2PError
from ..p2p.host import Swarm
from ..p2p.rpc import HandlerError
from ..protocol import HEALTH, NODE_INFO, NODES
from .nodes import NodeManager
from .signed_info import InvalidNodeInfo, opened, seal, sender_refusal

log = logging.getLogger(__name__)

CHANGE_GAP = 1.0
HEARTBEATS_PER_SECOND = 2.0  # swarm-wide
INFOS_PER_SECOND = 1.0  # swarm-wide, periodic ones (changes go out anyway)
TABLE_PULL_EVERY = 30.0
TABLE_PEERS = 3
TABLE_PULL_GAP = 1.0  # at most one table pull prompted by heartbeats per gap
JOIN_ANNOUNCEMENTS = 2  # node-info publishes once joined, as the mesh forms
JOIN_ANNOUNCE_GAP = 3.0


class Announcer:
    """Keeps the network's view of this node fresh, and this node's view of it."""

    def __init__(
        self,
        swarm: Swarm,
        nodes: NodeManager,
        build_info: Callable[[], NodeInfo],
        *,
        info_interval: float,
        heartbeat_interval: float,
        on_new_orchestrator: Callable[[], None] = lambda: None,
    ) -> None:
        self.swarm = swarm
        self.nodes = nodes
        self._build_info = build_info
        self._info_interval = info_interval
        self._heartbeat_interval = heartbeat_interval
        self._on_new_orchestrator = on_new_orchestrator
        self._poke = trio.Event()
        self._pull_from: str | None = None
        self._pull_wanted = trio.Event()
        # a restarted node keeps its ID: its Seq must still beat the old one's
        self._seq = time.time_ns()
        self.refused = 0  # node infos refused: not signed by the node they name
        swarm.rpc.register(NODES, self._on_nodes)

    def poke(self) -> None:
        """Something in this node's info changed: announce it soon."""
        self._poke.set()

    def current_info(self) -> NodeInfo:
        return opened(self.current_signed())

    def current_signed(self) -> SignedNodeInfo:
        """This node's info as of now, signed by it."""
        info = self._build_info()
        self._seq += 1
        info.Seq = self._seq
        signed = seal(info, self.swarm.sign)
        self.nodes.observe_info(info, signed)
        return signed

    def heartbeat_interval(self) -> float:
        interval = max(
            self._heartbeat_interval, self.nodes.count() / HEARTBEATS_PER_SECOND
        )
        self.nodes.expected_interval = interval  # every node computes about the same
        return interval

    def info_interval(self) -> float:
        return max(self._info_interval, self.nodes.count() / INFOS_PER_SECOND)

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        gossip = self.swarm.gossip
        async with trio.open_nursery() as nursery:
            await nursery.start(gossip.serve, NODE_INFO, self._on_info)
            await nursery.start(gossip.serve, HEALTH, self._on_heartbeat)
            self.current_info()
            nursery.start_soon(self._info_loop)
            nursery.start_soon(self._heartbeat_loop)
            nursery.start_soon(self._table_loop)
            task_status.started()

    # -- receiving -------------------------------------------------------

    def _on_info(self, sender: str, signed: SignedNodeInfo) -> None:
        if sender != self.swarm.peer_id:  # checked by the topic: signed by sender
            self._learn(signed)

    def _learn(self, signed: SignedNodeInfo) -> None:
        info = opened(signed)
        if not self.swarm.gate.allows(info.NodeID):
            return  # off the allow-list: it can never be reached from here
        is_new = self.nodes.get(info.NodeID) is None
        self.nodes.observe_info(info, signed)
        if self.swarm.discovery is not None and info.Addresses:
            self.swarm.discovery.learn(PeerRecord(ID=info.NodeID, Addrs=info.Addresses))
        if is_new and info.Orchestrator:
            self._on_new_orchestrator()

    def _on_heartbeat(self, sender: str, heartbeat: Heartbeat) -> None:
        if sender == self.swarm.peer_id:
            return
        self.nodes.observe_alive(heartbeat.NodeID, interval=heartbeat.Interval)
        if heartbeat.Known > self.nodes.count() and self._pull_from is None:
            self._pull_from = heartbeat.NodeID
            self._pull_wanted.set()

    async def _on_nodes(self, peer: str, request: NodesRequest) -> NodesResponse:
        if request.Self is not None:
            refusal = sender_refusal(peer, request.Self)
            if refusal is not None:
                self.refused += 1
                raise HandlerError("forbidden", f"node info refused: {refusal}")
            self._learn(request.Self)
        infos = self.nodes.signed_infos()
        return NodesResponse(Nodes=infos[: NodesResponse.LIMIT])

    # -- publishing ------------------------------------------------------

    async def _info_loop(self) -> None:
        while True:
            try:
                await self.swarm.gossip.publish(NODE_INFO, self.current_signed())
            except Exception:
                log.debug("node-info publish failed", exc_info=True)
            with trio.move_on_after(self.info_interval() * random.uniform(0.9, 1.1)):
                await self._poke.wait()
            self._poke = trio.Event()
            await trio.sleep(CHANGE_GAP)

    async def _heartbeat_loop(self) -> None:
        seq = 0
        while True:
            seq += 1
            interval = self.heartbeat_interval()
            beat = Heartbeat(
                NodeID=self.swarm.peer_id,
                Seq=seq,
                Interval=interval,
                Known=self.nodes.count(),
            )
            try:
                await self.swarm.gossip.publish(HEALTH, beat)
            except Exception:
                log.debug("heartbeat publish failed", exc_info=True)
            await trio.sleep(interval)

    # -- node tables -----------------------------------------------------

    async def _table_loop(self) -> None:
        """Pull node tables from a few peers once connected; then from a node
        whose heartbeat says it knows more, or now and then from anyone."""
        assert self.swarm.discovery is not None
        await self.swarm.discovery.joined.wait()
        peers = sorted(self.swarm.connected_peers())
        await self._pull_tables(random.sample(peers, min(TABLE_PEERS, len(peers))))
        # our first node-info went out before we had a gossip mesh; now that
        # we have peers, say it again so every node learns of us in seconds
        for _ in range(JOIN_ANNOUNCEMENTS):
            self.poke()
            await trio.sleep(JOIN_ANNOUNCE_GAP)
        while True:
            with trio.move_on_after(TABLE_PULL_EVERY * random.uniform(0.8, 1.2)):
                await self._pull_wanted.wait()
            self._pull_wanted = trio.Event()
            peer, self._pull_from = self._pull_from, None
            if peer is None:
                peers = sorted(self.swarm.connected_peers())
                peer = random.choice(peers) if peers else None
            if peer is not None:
                await self._pull_tables([peer])
            await trio.sleep(TABLE_PULL_GAP)

    async def _pull_tables(self, peers: list[str]) -> None:
        request = NodesRequest(Self=self.current_signed())
        for peer in peers:
            try:
                answer = await self.swarm.rpc.call(peer, NODES, request, timeout=5)
            except P2PError as exc:
                log.debug("node table from %s not fetched: %s", peer, exc)
                continue
            for signed in answer.Nodes:
                try:
                    info = opened(signed)
                except InvalidNodeInfo as exc:
                    self.refused += 1
                    log.info("node table from %s: entry refused: %s", peer, exc)
                    continue
                if info.NodeID != self.swarm.peer_id:
                    self._learn(signed)
