"""The compute node's spans of an execution, from the moments it noted.

The observed compute parts (`compute.py`) mark each moment on the
`Timeline`: accepted (the bid, with the job's traceparent), held (its
resources are held: it leaves the queue), ran and stopped (the executor's
run), ended (the final state is persisted for the requester). When it ends,
the timeline writes `queue`, `stage` (inputs, before the task starts),
`run` and `publish` spans into the job's trace. Only executions whose job
carries a traceparent are followed, and only while tracing is on.
"""

from __future__ import annotations

import time

from ..models.execution import Execution
from .safe import never_raises
from .tracing import TraceParent, Tracing, job_parent

# (span, the moment it begins, the moment it ends)
SPANS = (
    ("queue", "accepted", "held"),
    ("stage", "held", "ran"),
    ("run", "ran", "stopped"),
    ("publish", "stopped", "ended"),
)


class Timeline:
    """Moments of the executions this compute node follows."""

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing
        self._parents: dict[str, TraceParent] = {}
        self._moments: dict[str, dict[str, int]] = {}

    @never_raises
    def accepted(self, execution: Execution) -> None:
        if not self.tracing.enabled:
            return
        parent = job_parent(execution.Job)
        if parent is not None:
            self._parents[execution.ID] = parent
            self._moments[execution.ID] = {"accepted": time.time_ns()}

    def mark(self, execution_id: str, moment: str) -> None:
        moments = self._moments.get(execution_id)
        if moments is not None:
            moments.setdefault(moment, time.time_ns())

    @never_raises
    def ended(self, execution_id: str, state: str, engine: str) -> None:
        self.mark(execution_id, "ended")
        parent = self._parents.pop(execution_id, None)
        moments = self._moments.pop(execution_id, {})
        if parent is None:
            return
        for name, begins, ends in SPANS:
            if begins in moments and ends in moments:
                self.tracing.phase(
                    name,
                    parent,
                    moments[begins],
                    moments[ends],
                    execution_id=execution_id,
                    engine=engine,
                    state=state,
                )
