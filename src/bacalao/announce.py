"""Telling the network about this node, and listening to the others.

Publishes this node's `NodeInfo` on the node-info topic periodically and
soon after anything in it changes (rate-limited), and a small heartbeat on
the health topic every `heartbeat_interval`. Received node info and
heartbeats feed the `NodeManager`; node info also feeds peer discovery
with each node's listen addresses. When a node it has never seen appears,
this node re-announces itself at once, so newcomers learn the swarm in one
round instead of one publish interval.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import trio

from .models.node import NodeInfo
from .models.wire import Heartbeat
from .orchestrator.nodes import NodeManager
from .p2p.discovery import PeerRecord
from .p2p.host import Swarm
from .protocol import HEALTH, NODE_INFO

log = logging.getLogger(__name__)

MIN_GAP = 0.1


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
        # a restarted node keeps its ID: its Seq must still beat the old one's
        self._seq = time.time_ns()

    def poke(self) -> None:
        """Something in this node's info changed: announce it soon."""
        self._poke.set()

    def current_info(self) -> NodeInfo:
        info = self._build_info()
        self._seq += 1
        info.Seq = self._seq
        self.nodes.observe_info(info)
        return info

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
            task_status.started()

    def _on_info(self, sender: str, info: NodeInfo) -> None:
        if sender == self.swarm.peer_id:
            return
        is_new = self.nodes.get(info.NodeID) is None
        self.nodes.observe_info(info)
        if self.swarm.discovery is not None and info.Addresses:
            self.swarm.discovery.learn(PeerRecord(ID=info.NodeID, Addrs=info.Addresses))
        if is_new:
            self.poke()
            if info.Orchestrator:
                self._on_new_orchestrator()

    def _on_heartbeat(self, sender: str, heartbeat: Heartbeat) -> None:
        if sender != self.swarm.peer_id:
            self.nodes.observe_alive(heartbeat.NodeID)

    async def _info_loop(self) -> None:
        while True:
            try:
                await self.swarm.gossip.publish(NODE_INFO, self.current_info())
            except Exception:
                log.debug("node-info publish failed", exc_info=True)
            with trio.move_on_after(self._info_interval * random.uniform(0.9, 1.1)):
                await self._poke.wait()
            self._poke = trio.Event()
            await trio.sleep(MIN_GAP)

    async def _heartbeat_loop(self) -> None:
        seq = 0
        while True:
            seq += 1
            beat = Heartbeat(NodeID=self.swarm.peer_id, Seq=seq)
            try:
                await self.swarm.gossip.publish(HEALTH, beat)
            except Exception:
                log.debug("heartbeat publish failed", exc_info=True)
            await trio.sleep(self._heartbeat_interval)
