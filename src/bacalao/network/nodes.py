"""The network as this node sees it: node info, heartbeats and liveness.

Node info and heartbeats arrive by gossip (lossy), so liveness is a matter
of recency: a node not heard from for `timeout` seconds (or a few of its
heartbeat intervals, if longer) is DISCONNECTED, and whoever registered with
`on_lost` is told at once so its work can be rescheduled. A node heard from
again is CONNECTED again.

With a probe, a quiet node is asked directly first. The probe answers
ALIVE, GONE (refused: nothing listens there) or None (no answer in time).
No answer is not proof on a starved machine, so it only confirms a node
that is silent anyway; a dropped connection followed by GONE is lost at
once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

import trio

from ..models.node import ConnectionState, NodeInfo, NodeState
from ..models.wire import SignedNodeInfo
from .signals import ChangeSignal

log = logging.getLogger(__name__)

MISSED_BEATS = 4  # a node is lost after this many heartbeat intervals of silence


class Probe(Enum):
    """What asking a node directly found out (None: it did not answer in time)."""

    ALIVE = "alive"
    GONE = "gone"


Prober = Callable[[str], Awaitable[Probe | None]]


APPROVED, PENDING, REJECTED = "APPROVED", "PENDING", "REJECTED"
ACTIONS = {"approve": APPROVED, "reject": REJECTED}


class MembershipError(ValueError):
    """Raised for a membership change that cannot be made (names why)."""


@dataclass(frozen=True)
class NodeView:
    """A frozen snapshot of one node for placement decisions."""

    info: NodeInfo
    connected: bool
    seen_ago: float
    approved: bool = True

    @property
    def node_id(self) -> str:
        return self.info.NodeID


@dataclass
class _Entry:
    info: NodeInfo
    last_seen: float
    connected: bool = True
    interval: float | None = None  # from its heartbeats; None until one arrives
    connected_since: datetime | None = None
    disconnected_since: datetime | None = None
    signed: SignedNodeInfo | None = None  # as the node signed it, to relay
    membership: str = APPROVED


class NodeManager:
    """Keeps the latest info and liveness of every node heard of."""

    def __init__(
        self,
        self_id: str,
        *,
        timeout: float,
        probe: Prober | None = None,
        manual_approval: bool = False,
        memberships: dict[str, str] | None = None,
    ) -> None:
        self.self_id = self_id
        self.timeout = timeout
        self._probe = probe
        # with manual approval, a node heard of for the first time waits
        # (PENDING) until an operator approves it; decisions are kept
        self.manual_approval = manual_approval
        self._memberships = dict(memberships or {})
        self._nodes: dict[str, _Entry] = {}
        self.changed = ChangeSignal()
        self._on_lost: list[Callable[[str, str], None]] = []
        self._urgent: set[str] = set()
        self._wake = trio.Event()
        # how often a node we have not had a heartbeat from yet should beat:
        # heartbeats slow down as the swarm grows (see announce.py), and a
        # node learned from a table must not be probed every `timeout`.
        self.expected_interval = 1.0

    def on_lost(self, callback: Callable[[str, str], None]) -> None:
        """Call `callback(node_id, reason)` when a node becomes unreachable."""
        self._on_lost.append(callback)

    def observe_info(
        self, info: NodeInfo, signed: SignedNodeInfo | None = None
    ) -> bool:
        """Record `info` (with its signed form, which others may be handed);
        True if the node is new or its info changed."""
        entry = self._nodes.get(info.NodeID)
        now = trio.current_time()
        if entry is None:
            self._nodes[info.NodeID] = _Entry(
                info,
                now,
                connected_since=_utcnow(),
                signed=signed,
                membership=self._first_membership(info.NodeID),
            )
            log.info("node %s joined (%s)", info.NodeID, _roles(info))
            self.changed.notify()
            return True
        if info.Seq <= entry.info.Seq:  # old news (a table pull, a late copy)
            return False
        changed = info != entry.info or not entry.connected
        entry.info = info
        if signed is not None:  # else keep the last one: older, but genuine
            entry.signed = signed
        self._seen(entry, now)
        if changed:
            self.changed.notify()
        return changed

    def _first_membership(self, node_id: str) -> str:
        kept = self._memberships.get(node_id)
        if kept is not None:
            return kept
        return PENDING if self.manual_approval and node_id != self.self_id else APPROVED

    def set_membership(self, node_id: str, action: str) -> str:
        """Approve or reject a known node; returns its new membership.
        `MembershipError` if the action is unknown or changes nothing."""
        entry = self._nodes.get(node_id)
        if entry is None:
            raise MembershipError(f"node {node_id} is not known here")
        state = ACTIONS.get(action.lower())
        if state is None:
            known = ", ".join([*ACTIONS, "delete"])
            raise MembershipError(f"unsupported action {action!r} (one of {known})")
        if entry.membership == state:
            raise MembershipError(f"node {node_id} is already {state.lower()}")
        entry.membership = self._memberships[node_id] = state
        self.changed.notify()
        return state

    def forget(self, node_id: str) -> None:
        """Delete a node from this view (it is new again if it comes back)."""
        if self._nodes.pop(node_id, None) is None:
            raise MembershipError(f"node {node_id} is not known here")
        self._memberships.pop(node_id, None)
        self.changed.notify()

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

    def is_lost(self, node_id: str) -> bool:
        """Heard of, and since lost. A node not heard of yet is not lost: it
        may be one a requester knew before it restarted."""
        entry = self._nodes.get(node_id)
        return entry is not None and not entry.connected

    def count(self) -> int:
        """How many nodes this one knows of, itself and lost ones included."""
        return len(self._nodes)

    def peer_gone(self, node_id: str) -> None:
        """Our last connection to `node_id` closed: check on it now rather
        than after its missed heartbeats (a crashed process is lost at once;
        one that only hung up answers the probe)."""
        entry = self._nodes.get(node_id)
        if entry is not None and entry.connected and self._probe is not None:
            self._urgent.add(node_id)
            self._wake.set()

    def signed_infos(self) -> list[SignedNodeInfo]:
        """The signed info of every connected node, to hand to a peer."""
        return [
            e.signed
            for e in self._nodes.values()
            if e.connected and e.signed is not None
        ]

    def views(self) -> list[NodeView]:
        now = trio.current_time()
        return [
            NodeView(e.info, e.connected, now - e.last_seen, e.membership == APPROVED)
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
                    Membership=e.membership,
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
                with trio.move_on_after(min(self.timeout / 4, 0.5)):
                    await self._wake.wait()
                self._wake = trio.Event()
                now = trio.current_time()
                if self._probe is None:
                    self.expire(now)
                    continue
                urgent, self._urgent = self._urgent, set()
                for node_id in urgent.union(self.suspects(now)):
                    if node_id not in probing:
                        probing.add(node_id)
                        nursery.start_soon(self._check, node_id, probing)

    async def _check(self, node_id: str, probing: set[str]) -> None:
        assert self._probe is not None
        entry = self._nodes[node_id]
        heard_at = entry.last_seen
        try:
            found = await self._probe(node_id)
            if found is Probe.ALIVE:
                self.observe_alive(node_id)
            elif entry.last_seen == heard_at:  # nor heard from while we asked
                if found is Probe.GONE:
                    self.mark_lost(
                        node_id, "its connection closed and it refuses new ones"
                    )
                elif node_id in self.suspects(trio.current_time()):
                    self.mark_lost(node_id, "nor did it answer a ping")
        finally:
            probing.discard(node_id)

    def suspects(self, now: float) -> list[str]:
        """Connected nodes not heard from for longer than allowed."""
        return [
            node_id
            for node_id, entry in self._nodes.items()
            if node_id != self.self_id
            and entry.connected
            and now - entry.last_seen > self._allowed_silence(entry)
        ]

    def _allowed_silence(self, entry: _Entry) -> float:
        # a node's first heartbeats carry the short interval of a swarm it
        # barely knew; the swarm's pace (expected_interval) is the floor
        interval = max(entry.interval or 0.0, self.expected_interval)
        return max(self.timeout, MISSED_BEATS * interval)

    def expire(self, now: float) -> list[str]:
        """Mark every suspect lost at once (no probe); returns them."""
        lost = self.suspects(now)
        for node_id in lost:
            self.mark_lost(node_id)
        return lost

    def mark_lost(self, node_id: str, why: str = "") -> None:
        entry = self._nodes.get(node_id)
        if entry is None or not entry.connected:
            return
        entry.connected = False
        entry.disconnected_since = _utcnow()
        silent = trio.current_time() - entry.last_seen
        reason = f"node {node_id} stopped responding (silent for {silent:.0f} s)"
        if why:
            reason = f"{reason}: {why}"
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
