"""The requester's spans of a job's walk, written from its history.

`JobTracer.job_changed` is an `on_change` callback of the orchestrator
(wired in node.py beside the shared view). On a job's first commit it
writes the `submit` span (from the job's creation to its storing); when
the job ends it writes `place` (submission to first bid ask), for each
execution a `bid` span (asked to answered) and an `execution` span (asked
to its end, with the node and final state), then ends the job's span.
The compute node's spans (`queue`, `stage`, `run`, `publish`) join the
same trace through the job's traceparent (see `tracing.py`). Each version
of a named job is a trace of its own; only its own events are read.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime

from ..models.history import JobHistory
from ..models.phases import ENDS, execution_phases, new_state, placement
from ..orchestrator.record import JobRecord
from .safe import never_raises
from .tracing import TraceParent, Tracing, job_parent


class JobTracer:
    """Turns committed job changes into the requester's spans."""

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing
        self._seen: set[str] = set()  # active jobs whose submit span is written

    @never_raises
    def job_changed(self, record: JobRecord) -> None:
        if not self.tracing.enabled:
            return
        job = record.job
        parent = job_parent(job)
        if parent is None:
            return
        if job.ID not in self._seen:
            if record.terminal:
                return  # its spans are written (or came before us)
            self._seen.add(job.ID)
            self.tracing.job_seen(job)
            self.tracing.phase("submit", parent, job.CreateTime, time.time_ns())
        if not record.terminal:
            return
        self._seen.discard(job.ID)
        history = [e for e in record.history if e.JobVersion == job.Version]
        placed = placement(history)
        if placed is not None:
            self.tracing.phase("place", parent, _ns(placed.start), _ns(placed.end))
        for execution_id, events in _by_execution(history).items():
            self._execution(parent, execution_id, events)
        state = record.state.name if record.state.terminal else "Superseded"
        self.tracing.job_ended(job, state, time.time_ns())

    def _execution(
        self, parent: TraceParent, execution_id: str, events: list[JobHistory]
    ) -> None:
        node = events[0].NodeID
        for phase in execution_phases(events):
            if phase.name == "bid":
                self.tracing.phase(
                    "bid",
                    parent,
                    _ns(phase.start),
                    _ns(phase.end),
                    execution_id=execution_id,
                    node_id=node,
                )
        ended = [e for e in events if new_state(e) in ENDS]
        if ended:
            self.tracing.phase(
                "execution",
                parent,
                _ns(events[0].Time),
                _ns(ended[-1].Time),
                execution_id=execution_id,
                node_id=node,
                state=new_state(ended[-1]),
            )


def _by_execution(history: list[JobHistory]) -> dict[str, list[JobHistory]]:
    found: defaultdict[str, list[JobHistory]] = defaultdict(list)
    for event in history:
        if event.ExecutionID:
            found[event.ExecutionID].append(event)
    return found


def _ns(moment: datetime) -> int:
    return int(moment.timestamp() * 1e9)
