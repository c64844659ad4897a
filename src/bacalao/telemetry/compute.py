"""Compute-side metrics, taken at the seams the compute service already uses.

node.py builds the compute part from these instead of the plain parts, so
the compute service itself is unchanged:

- `ObservedExecutor` wraps an executor: tasks started and how long each ran,
  by engine.
- `ObservedExecutions` is the compute node's execution store: it sees each
  accepted execution (`put`, with its job, so its engine) and every state
  report it persists for its requester (`enqueue`), so it counts executions
  that ended, by engine and state, however they ended (staging, run or
  publishing).
- `TimedCapacity` is the capacity account: it times how long an accepted
  execution waited in the queue before its resources were held (0 for one
  that was held at once).

Each also marks its moments on the `Timeline`, which writes the compute
node's trace spans when tracing is on.
"""

from __future__ import annotations

import time

from ..compute.capacity import Capacity
from ..compute.executions import LocalExecutions
from ..executors.base import ExecutionRequest, Executor
from ..models.execution import Execution, RunCommandResult
from ..models.job import Job
from ..models.resources import Resources
from ..models.wire import ExecutionUpdate
from .metrics import NodeMetrics
from .timeline import Timeline


class ObservedExecutor:
    """An `Executor` that reports each run to `NodeMetrics`."""

    def __init__(
        self, inner: Executor, metrics: NodeMetrics, timeline: Timeline
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self._metrics = metrics
        self._timeline = timeline

    async def check(self) -> str | None:
        return await self.inner.check()

    def refuse(self, job: Job) -> str | None:
        return self.inner.refuse(job)

    async def run(self, request: ExecutionRequest) -> RunCommandResult:
        engine = request.job.task.Engine.Type
        self._metrics.execution_started(engine)
        self._timeline.mark(request.execution_id, "ran")
        began = time.monotonic()
        try:
            return await self.inner.run(request)
        finally:
            self._metrics.execution_ran(engine, time.monotonic() - began)
            self._timeline.mark(request.execution_id, "stopped")

    async def cleanup(self) -> None:
        await self.inner.cleanup()

    async def aclose(self) -> None:
        await self.inner.aclose()


def observed(
    executors: dict[str, Executor], metrics: NodeMetrics, timeline: Timeline
) -> dict[str, Executor]:
    """Every executor of `executors`, wrapped."""
    return {
        name: ObservedExecutor(e, metrics, timeline) for name, e in executors.items()
    }


class ObservedExecutions(LocalExecutions):
    """`LocalExecutions` that counts the executions that end, by engine."""

    def __init__(self, path: str, metrics: NodeMetrics, timeline: Timeline) -> None:
        super().__init__(path)
        self._metrics = metrics
        self._timeline = timeline
        self._engines: dict[str, str] = {}  # execution ID -> engine, while active

    async def put(self, execution: Execution, requester: str) -> None:
        await super().put(execution, requester)
        if execution.Job is not None:
            self._engines[execution.ID] = execution.Job.task.Engine.Type
            self._timeline.accepted(execution)

    async def enqueue(self, requester: str, update: ExecutionUpdate) -> int:
        seq = await super().enqueue(requester, update)
        if update.State.terminal:
            engine = self._engines.pop(update.ExecutionID, "")
            self._metrics.execution_ended(engine, update.State.name)
            self._timeline.ended(update.ExecutionID, update.State.name, engine)
        return seq


class TimedCapacity(Capacity):
    """`Capacity` that reports how long queued executions waited."""

    def __init__(
        self,
        total: Resources,
        *,
        max_queued: int,
        metrics: NodeMetrics,
        timeline: Timeline | None = None,
    ) -> None:
        super().__init__(total, max_queued=max_queued)
        self._metrics = metrics
        self._timeline = timeline
        self._queued_at: dict[str, float] = {}

    def hold_or_queue(self, execution_id: str, amount: Resources) -> bool:
        known = self.is_held(execution_id) or execution_id in self._queued_at
        held = super().hold_or_queue(execution_id, amount)
        if known:
            return held
        if held:
            self._metrics.queue_waited(0.0)  # it did not wait
            self._mark_held(execution_id)
        else:
            self._queued_at[execution_id] = time.monotonic()
        return held

    def release(self, execution_id: str) -> list[str]:
        self._queued_at.pop(execution_id, None)  # ended before it started
        started = super().release(execution_id)
        now = time.monotonic()
        for started_id in started:
            queued_at = self._queued_at.pop(started_id, None)
            if queued_at is not None:
                self._metrics.queue_waited(now - queued_at)
            self._mark_held(started_id)
        return started

    def _mark_held(self, execution_id: str) -> None:
        if self._timeline is not None:
            self._timeline.mark(execution_id, "held")
