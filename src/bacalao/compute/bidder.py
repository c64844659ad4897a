"""Whether this compute node bids on a job: a pure decision.

The node bids only on what it can run: an engine that works here, input
sources and a publisher it supports, a network mode its operator allows,
resources that fit in the node at all, and room now or in its queue.
A refusal says why; "busy:" marks one that may pass later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..models.job import Job, Task
from ..models.resources import Resources, format_bytes
from .capacity import CapacitySnapshot


class DataCheck(Protocol):
    """The input sources' and publisher's own bid-time check (no I/O)."""

    def refusal(self, task: Task) -> str | None: ...


@dataclass(frozen=True)
class Offer:
    """What this node offers, as it advertises it in node info."""

    engines: frozenset[str]
    storage: frozenset[str]
    publishers: frozenset[str]
    data: DataCheck | None = None


@dataclass(frozen=True)
class BidDecision:
    accept: bool
    reason: str = ""

    @classmethod
    def no(cls, reason: str) -> BidDecision:
        return cls(False, reason)


YES = BidDecision(True)


def decide(
    job: Job,
    need: Resources,
    offer: Offer,
    capacity: CapacitySnapshot,
    engine_refusal: str | None,
) -> BidDecision:
    """Bid on `job` needing `need`, given what the node offers and holds."""
    if capacity.closed:
        return BidDecision.no("this node is shutting down")
    task = job.task
    engine = task.Engine.Type.lower()
    if engine not in offer.engines:
        return BidDecision.no(f"engine {engine!r} is not available on this node")
    if engine_refusal:
        return BidDecision.no(engine_refusal)
    for source in task.InputSources:
        if source.Source.Type not in offer.storage:
            return BidDecision.no(
                f"input source {source.Source.Type!r} is not supported here"
            )
    if task.Publisher.Type and task.Publisher.Type not in offer.publishers:
        return BidDecision.no(
            f"publisher {task.Publisher.Type!r} is not supported here"
        )
    data_refusal = offer.data.refusal(task) if offer.data is not None else None
    if data_refusal:
        return BidDecision.no(data_refusal)
    too_big = need.shortfall(capacity.total)
    if too_big:
        return BidDecision.no(f"job needs more than this node has: {too_big[0]}")
    if need.fits_in(capacity.available) and capacity.enqueued == 0:
        return YES
    if capacity.queue_room > 0:
        return YES
    return BidDecision.no(
        f"busy: {capacity.running} running, {capacity.enqueued} queued "
        f"(free cpu {capacity.available.CPU:g}, "
        f"memory {format_bytes(capacity.available.Memory)})"
    )
