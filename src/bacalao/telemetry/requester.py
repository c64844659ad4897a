"""Requester-side metrics, read from the jobs the orchestrator commits.

The orchestrator calls `on_change(record)` after every commit of a job it
owns; `JobMetrics.job_changed` is such a callback (node.py calls it beside
the shared view's). It reads the history events added since it last saw
the job and derives from them the job-state gauge, the bid counters (an
execution moved AskForBid → AskForBidAccepted / AskForBidRejected, or
Failed when the node could not be asked) and, when the job ends, its
submit→end latency. It keeps a few bytes per active job and forgets a job
once it is terminal; a later commit of an ended job counts nothing.

Events older than this observer (a job resumed after a restart carries its
whole history) are not counted again, nor those of a job's earlier versions
(a new version of a named job carries their history).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

from ..models.history import JobHistory
from ..models.states import ExecutionStateType
from ..orchestrator.record import JobRecord
from .metrics import NodeMetrics
from .reasons import bid_reason
from .safe import never_raises

E = ExecutionStateType


class JobMetrics:
    """Turns committed job changes into requester metrics."""

    def __init__(self, metrics: NodeMetrics) -> None:
        self.metrics = metrics
        self._started = datetime.now(UTC)
        self._state: dict[str, str] = {}  # job ID -> state counted in the gauge
        self._seen: dict[str, int] = {}  # job ID -> last history SeqNum read

    @never_raises
    def job_changed(self, record: JobRecord) -> None:
        job = record.job
        if record.terminal and job.ID not in self._state:
            return  # its end is counted (or came before this observer)
        for event in self._new_events(record):
            self._event(event)
        old = self._state.get(job.ID)
        new = record.state.name
        if old is None and self._submitted_now(record):
            self.metrics.job_submitted(job.Type)
        if not record.terminal:
            if old != new:
                self.metrics.job_state(job.Type, old, new)
            self._state[job.ID] = new
            return
        self._state.pop(job.ID, None)
        self._seen.pop(job.ID, None)
        if not record.state.terminal:  # superseded: its next version counts
            self.metrics.job_state(job.Type, old, None)
        elif old != new:
            self.metrics.job_state(job.Type, old, new)
            seconds = time.time() - job.CreateTime / 1e9
            self.metrics.job_ended(job.Type, new, seconds)

    def _new_events(self, record: JobRecord) -> Iterator[JobHistory]:
        job = record.job
        first_sight = job.ID not in self._seen
        last = self._seen.get(job.ID, 0)
        history = record.history
        start = len(history)
        while start > 0 and history[start - 1].SeqNum > last:
            start -= 1
        if history:
            self._seen[job.ID] = history[-1].SeqNum
        for event in history[start:]:
            if first_sight and event.JobVersion != job.Version:
                continue  # an earlier version's, counted when it happened
            if event.Time >= self._started:
                yield event

    def _event(self, event: JobHistory) -> None:
        change = event.ExecutionState
        if change is None:
            return
        if change.New == E.AskForBid:
            self.metrics.bid_asked()
        elif change.New == E.AskForBidAccepted:
            self.metrics.bid_answered(True)
        elif change.New == E.AskForBidRejected:
            self.metrics.bid_answered(False, bid_reason(event.Event.Message))
        elif change.Previous == E.AskForBid and change.New == E.Failed:
            self.metrics.bid_answered(False, "unreachable")

    def _submitted_now(self, record: JobRecord) -> bool:
        """Whether a job (or a new version of one) first seen now was
        submitted while we watched."""
        version = record.job.Version
        mine = [e for e in record.history if e.JobVersion == version]
        return bool(mine) and mine[0].Time >= self._started
