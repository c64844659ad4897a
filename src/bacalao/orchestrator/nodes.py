"""The network as this node sees it: node info, heartbeats and liveness.

Node info and heartbeats arrive by gossip (lossy), so liveness is a matter
of recency: a node not heard from for `timeout` seconds is DISCONNECTED,
and whoever registered with `on_lost` is told at once so its work can be
rescheduled. A node heard from again is CONNECTED again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import trio

from ..models.node import ConnectionState, NodeInfo, NodeState
from ..signals import ChangeSignal

log = logging.getLogger(__name__)

MISSED_BEATS = 4  # a node is lost after this many heartbeat intervals of silence


@dataclass(frozen=True)
class NodeView:
    """A frozen snapshot of one node for placement decisions."""

    info: NodeInfo
    connected: bool
    seen_ago: float

    @property
    def node_id(self) -> str:
        return self.info.NodeID


@dataclass
class _Entry:
    info: NodeInfo
    last_seen: float
    connected: bool = True
    interval: float = 1.0
    connected_since: datetime | None = None
    disconnected_since: datetime | None = None


class NodeManager:
    """Keeps the latest info and liveness of every node heard of."""

    def __init__(
        self,
        self_id: str,
        *,
        timeout: float,
        probe: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.self_id = self_id
        self.timeout = timeout
        self._probe = probe
        self._nodes: dict[str, _Entry] = {}
        self.changed = ChangeSignal()
        self._on_lost: list[Callable[[str, str], None]] = []

    def on_lost(self, callback: Callable[[str, str], None]) -> None:
        """Call `callback(node_id, reason)` when a node becomes unreachable."""
        self._on_lost.append(callback)

    def observe_info(self, info: NodeInfo) -> bool:
        """Record `info`; True if the node is new or its info changed."""
        entry = self._nodes.get(info.NodeID)
        now = trio.current_time()
        if entry is None:
            self._nodes[info.NodeID] = _Entry(info, now, connected_since=_utcnow())
            log.info("node %s joined (%s)", info.NodeID, _roles(info))
            self.changed.notify()
            return True
        if info.Seq < entry.info.Seq:
            return False
        changed = info != entry.info or not entry.connected
        entry.info = info
        self._seen(entry, now)
        if changed:
            self.changed.notify()
        return changed

    def observe_alive(self, node_id: str, *, interval: float | None = None) -> None:
        """Note that `node_id` showed signs of life (heartbeat, RPC answer);
        a heartbeat says when to expect the next one (`interval`)."""
        entry = self._nodes.get(node_id)
        if entry is not None:
            if interval is not None:
                entry.interval = interval
            was = entry.connected
            self._seen(entry, trio.current_time())
            if not was:
                self.changed.notify()

    def _seen(self, entry: _Entry, now: float) -> None:
        entry.last_seen = now
        if not entry.connected:
            log.info("node %s is back", entry.info.NodeID)
            entry.connected = True
            entry.connected_since = _utcnow()
            entry.disconnected_since = None

    def get(self, node_id: str) -> NodeInfo | None:
        entry = self._nodes.get(node_id)
        return entry.info if entry else None

    def is_connected(self, node_id: str) -> bool:
        entry = self._nodes.get(node_id)
        return entry is not None and entry.connected

    def views(self) -> list[NodeView]:
        now = trio.current_time()
        return [
            NodeView(e.info, e.connected, now - e.last_seen)
            for e in self._nodes.values()
        ]

    def states(self) -> list[NodeState]:
        now = trio.current_time()
        out = []
        for e in self._nodes.values():
            status = "CONNECTED" if e.connected else "DISCONNECTED"
            seen = _utcnow() - timedelta(seconds=now - e.last_seen)
            out.append(
                NodeState(
                    Info=e.info,
                    Connection=status,
                    ConnectionState=ConnectionState(
                        Status=status,
                        LastHeartbeat=seen,
                        ConnectedSince=e.connected_since or seen,
                        DisconnectedSince=e.disconnected_since,
                    ),
                )
            )
        return out

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Find nodes gone quiet; with a `probe`, ask each one directly before
        calling it lost (a busy or starved gossip path is not a dead node)."""
        probing: set[str] = set()
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                await trio.sleep(min(self.timeout / 4, 0.5))
                now = trio.current_time()
                if self._probe is None:
                    self.expire(now)
                    continue
                for node_id in self.suspects(now):
                    if node_id not in probing:
                        probing.add(node_id)
                        nursery.start_soon(self._check, node_id, probing)

    async def _check(self, node_id: str, probing: set[str]) -> None:
        assert self._probe is not None
        entry = self._nodes[node_id]
        heard_at = entry.last_seen
        try:
            if await self._probe(node_id):
                self.observe_alive(node_id)
            elif entry.last_seen == heard_at:  # nor heard from while we asked
                self.mark_lost(node_id)
        finally:
            probing.discard(node_id)

    def suspects(self, now: float) -> list[str]:
        """Connected nodes not heard from for longer than allowed."""
        return [
            node_id
            for node_id, entry in self._nodes.items()
            if node_id != self.self_id
            and entry.connected
            and now - entry.last_seen > max(self.timeout, MISSED_BEATS * entry.interval)
        ]

    def expire(self, now: float) -> list[str]:
        """Mark every suspect lost at once (no probe); returns them."""
        lost = self.suspects(now)
        for node_id in lost:
            self.mark_lost(node_id)
        return lost

    def mark_lost(self, node_id: str) -> None:
        entry = self._nodes.get(node_id)
        if entry is None or not entry.connected:
            return
        entry.connected = False
        entry.disconnected_since = _utcnow()
        silent = trio.current_time() - entry.last_seen
        reason = f"node {node_id} stopped responding (silent for {silent:.0f} s)"
        log.warning("%s", reason)
        for callback in self._on_lost:
            callback(node_id, reason)
        self.changed.notify()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _roles(info: NodeInfo) -> str:
    engines = (
        ",".join(info.ComputeNodeInfo.ExecutionEngines) if info.ComputeNodeInfo else ""
    )
    return f"compute: {engines}" if engines else "orchestrator only"
