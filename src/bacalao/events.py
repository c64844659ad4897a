"""The event hub: job and node changes, fanned out to subscribers.

The node feeds it (`job_changed` from the orchestrator's commits and from
the shared view's replicas, `follow_nodes` from the node table's change
signal); the API's event stream (`api/events.py`) reads a `Subscription`
per client. An event is encoded once, when it is published, and only if
someone listens: a node nobody watches pays nothing.

A slow reader must not slow the node, so each subscription holds a bounded
number of pending events. On overflow the pending events are collapsed to
the newest one per job (and per node): only the latest state matters. A
reader still over its bound after that (more distinct jobs changed than
it may hold) is dropped: its stream ends, and it reconnects to catch up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

import trio

from .models.execution import Execution
from .models.job import Job
from .models.node import NodeState

PENDING_LIMIT = 256  # events a subscription may hold before collapsing


@dataclass(frozen=True)
class Event:
    """One server-sent event: its `kind` ("job" or "node"), what it is about
    (`key`: a job or node ID), the job's Revision (0 for nodes) and the
    JSON of its data line."""

    kind: str
    key: str
    revision: int
    data: str

    def frame(self) -> bytes:
        """The event as `text/event-stream` lines."""
        head = f"event: {self.kind}\n"
        if self.kind == "job":
            head += f"id: {self.revision}\n"
        return f"{head}data: {self.data}\n\n".encode()


def job_event(job: Job, executions: Iterable[Execution] | None = None) -> Event:
    """A job event; with `executions`, its data carries them too."""
    data = f'{{"Job":{job.model_dump_json()}'
    if executions is not None:
        items = ",".join(e.model_dump_json() for e in executions)
        data += f',"Executions":[{items}]'
    return Event("job", job.ID, job.Revision, data + "}")


def node_event(state: NodeState) -> Event:
    return Event("node", state.Info.NodeID, 0, state.model_dump_json())


class Subscription:
    """What one reader has yet to receive; `receive` waits for the next event
    and raises `trio.EndOfChannel` once the hub closed it (the node stops,
    or the reader fell too far behind: `lagged`)."""

    def __init__(self, hub: EventHub, job_id: str, limit: int) -> None:
        self.job_id = job_id
        self.lagged = False
        self._hub = hub
        self._limit = limit
        self._pending: deque[Event] = deque()
        self._closed = False
        self._wake = trio.Event()

    def put(self, event: Event) -> None:
        if self._closed:
            return
        self._pending.append(event)
        if len(self._pending) > self._limit:
            self._pending = collapsed(self._pending)
            if len(self._pending) > self._limit:
                self.lagged = True
                self.close()
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    async def receive(self) -> Event:
        while not self._pending:
            if self._closed:
                raise trio.EndOfChannel
            await self._wake.wait()
            self._wake = trio.Event()
        if self._closed and self.lagged:
            self._pending.clear()
            raise trio.EndOfChannel
        return self._pending.popleft()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        self._hub.unsubscribe(self)


def collapsed(pending: Iterable[Event]) -> deque[Event]:
    """The newest event per job and per node, in the order of the newest."""
    seen: set[tuple[str, str]] = set()
    newest: list[Event] = []
    for event in reversed(list(pending)):
        if (event.kind, event.key) not in seen:
            seen.add((event.kind, event.key))
            newest.append(event)
    return deque(reversed(newest))


class Signal(Protocol):
    def wait(self) -> Awaitable[None]: ...


class EventHub:
    """Publishes job and node changes to every current subscriber."""

    def __init__(self, *, limit: int = PENDING_LIMIT) -> None:
        self.limit = limit
        self._everything: set[Subscription] = set()
        self._by_job: dict[str, set[Subscription]] = {}
        self._node_states: Callable[[], list[NodeState]] | None = None
        self._nodes_seen: dict[str, NodeState] = {}
        self._closed = False

    @property
    def subscribers(self) -> int:
        return len(self._everything) + sum(len(s) for s in self._by_job.values())

    def subscribe(self, job_id: str = "") -> Subscription:
        """Events of one job (its executions included), or of every job and
        node when `job_id` is empty. Use it as a context manager."""
        subscription = Subscription(self, job_id, self.limit)
        if self._closed:
            subscription.close()
            return subscription
        if job_id:
            self._by_job.setdefault(job_id, set()).add(subscription)
        else:
            if not self._everything:  # nobody followed the nodes until now
                self._nodes_seen = self._current_nodes()
            self._everything.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._everything.discard(subscription)
        watchers = self._by_job.get(subscription.job_id)
        if watchers is not None:
            watchers.discard(subscription)
            if not watchers:
                del self._by_job[subscription.job_id]

    def job_changed(self, job: Job, executions: Iterable[Execution]) -> None:
        """Publish a job's new revision (its state as of now: encoded here,
        so later changes to the objects do not leak into the event)."""
        watchers = self._by_job.get(job.ID)
        if self._everything:
            event = job_event(job)
            for subscription in list(self._everything):
                subscription.put(event)
        if watchers:
            event = job_event(job, executions)
            for subscription in list(watchers):
                subscription.put(event)

    def close(self) -> None:
        """End every subscription (the node stops)."""
        self._closed = True
        for subscription in [*self._everything, *self._every_watcher()]:
            subscription.close()

    def _every_watcher(self) -> list[Subscription]:
        return [s for watchers in self._by_job.values() for s in watchers]

    async def follow_nodes(
        self,
        changed: Signal,
        states: Callable[[], list[NodeState]],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Publish each node whose info, membership or liveness changed, each
        time `changed` fires; closes the hub when cancelled."""
        self._node_states = states
        self._nodes_seen = self._current_nodes()
        task_status.started()
        try:
            while True:
                await changed.wait()
                if self._everything:
                    self._publish_nodes()
        finally:
            self.close()

    def _current_nodes(self) -> dict[str, NodeState]:
        if self._node_states is None:
            return {}
        return {s.Info.NodeID: s for s in self._node_states()}

    def _publish_nodes(self) -> None:
        current = self._current_nodes()
        for node_id, state in current.items():
            if _differs(self._nodes_seen.get(node_id), state):
                event = node_event(state)
                for subscription in list(self._everything):
                    subscription.put(event)
        self._nodes_seen = current


def _differs(before: NodeState | None, after: NodeState) -> bool:
    return before is None or (before.Info, before.Membership, before.Connection) != (
        after.Info,
        after.Membership,
        after.Connection,
    )


__all__ = [
    "PENDING_LIMIT",
    "Event",
    "EventHub",
    "Subscription",
    "collapsed",
    "job_event",
    "node_event",
]
