"""Whether this compute node bids on a job: a pure decision.

The node bids only on what it can run (`matching.mismatch`, the rule the
requesters rank nodes by: engine, input sources, publisher, network mode,
constraints on its labels, resources that fit in the node at all), what
its engine and data plugins accept, and with room now or in its queue.
A refusal says why; "busy:" marks one that may pass later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from ..matching import Offer, Requirements, mismatch
from ..models.job import Job, Task
from ..models.resources import Resources, format_bytes
from .capacity import CapacitySnapshot


class DataCheck(Protocol):
    """The input sources' and publisher's own bid-time check (no I/O)."""

    def refusal(self, task: Task) -> str | None: ...


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
    data: DataCheck | None = None,
) -> BidDecision:
    """Bid on `job` needing `need`, given what the node offers and holds."""
    if capacity.closed:
        return BidDecision.no("this node is shutting down")
    found = mismatch(
        Requirements.of(job, need), replace(offer, capacity=capacity.total)
    )
    if found:
        return BidDecision.no(found.of_this_node)
    if engine_refusal:
        return BidDecision.no(engine_refusal)
    data_refusal = data.refusal(job.task) if data is not None else None
    if data_refusal:
        return BidDecision.no(data_refusal)
    if need.fits_in(capacity.available) and capacity.enqueued == 0:
        return YES
    if capacity.queue_room > 0:
        return YES
    return BidDecision.no(
        f"busy: {capacity.running} running, {capacity.enqueued} queued "
        f"(free cpu {capacity.available.CPU:g}, "
        f"memory {format_bytes(capacity.available.Memory)})"
    )
