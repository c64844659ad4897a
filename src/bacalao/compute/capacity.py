"""What a compute node can still take: resources held and work queued.

An execution holds its resources from the moment its bid is accepted until
it ends, however it ends. When they are not free right away, an accepted
execution waits in a bounded FIFO queue (Bacalhau's executor buffer) and
starts as soon as earlier ones release enough. A node that is stopping
`close()`s its capacity: it bids on nothing more.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ..models.resources import Resources


@dataclass(frozen=True)
class CapacitySnapshot:
    total: Resources
    available: Resources
    queued: Resources
    running: int
    enqueued: int
    queue_room: int
    closed: bool = False  # the node is shutting down: it takes no new work


class Capacity:
    """Resource accounting of one compute node (no I/O, not thread-safe)."""

    def __init__(self, total: Resources, *, max_queued: int) -> None:
        self.total = total
        self.max_queued = max_queued
        self._held: dict[str, Resources] = {}
        self._queue: OrderedDict[str, Resources] = OrderedDict()
        self.closed = False

    def close(self) -> None:
        """Take no new work (the node is stopping); what is held runs on."""
        self.closed = True

    def busy(self) -> bool:
        """Whether any execution holds resources or waits in the queue."""
        return bool(self._held or self._queue)

    def available(self) -> Resources:
        used = Resources()
        for amount in self._held.values():
            used = used + amount
        return self.total - used

    def can_hold(self, amount: Resources) -> bool:
        return amount.fits_in(self.available())

    def hold_or_queue(self, execution_id: str, amount: Resources) -> bool:
        """Hold `amount` now (True) or queue it (False); the caller checked room."""
        if execution_id in self._held or execution_id in self._queue:
            return execution_id in self._held
        if not self._queue and self.can_hold(amount):
            self._held[execution_id] = amount
            return True
        self._queue[execution_id] = amount
        return False

    def release(self, execution_id: str) -> list[str]:
        """Free what `execution_id` held or queued; returns executions now started."""
        self._held.pop(execution_id, None)
        self._queue.pop(execution_id, None)
        started = []
        while self._queue:
            next_id, amount = next(iter(self._queue.items()))
            if not self.can_hold(amount):
                break
            self._queue.popitem(last=False)
            self._held[next_id] = amount
            started.append(next_id)
        return started

    def is_held(self, execution_id: str) -> bool:
        return execution_id in self._held

    def snapshot(self) -> CapacitySnapshot:
        queued = Resources()
        for amount in self._queue.values():
            queued = queued + amount
        return CapacitySnapshot(
            total=self.total,
            available=self.available(),
            queued=queued,
            running=len(self._held),
            enqueued=len(self._queue),
            queue_room=max(self.max_queued - len(self._queue), 0),
            closed=self.closed,
        )
