"""The scheduling policy: pure reactions of one job to what happens to it.

Nomad's shape: each reaction takes the job's record and a `World` (the
node table and the time) and returns a `Plan` (the nodes to ask for bids,
the executions to cancel, whether to broadcast an open call). The record
itself carries the job's new state and the history events that say why;
the orchestrator persists that change, then carries out the plan. Nothing
here does I/O or reads a clock: the tests drive it with made-up worlds.

    place       decide where (and whether) the job runs next
    on_bid      a node answered an ask (or could not be asked)
    on_update   a compute node reported an execution's progress
    on_node_lost, on_delivery_failed, on_stop, on_superseded, on_nodes_changed
    on_timer    timeouts, silent nodes and queue waits
    finish      the job has ended: cancel what it no longer needs
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from ..matching import Requirements
from ..models.execution import Execution
from ..models.ids import new_evaluation_id, short_node_id
from ..models.job import Job
from ..models.resources import Resources
from ..models.states import ExecutionDesiredStateType, ExecutionStateType, JobStateType
from ..models.wire import Bid, ExecutionUpdate
from ..network.nodes import NodeView
from .record import Declined, JobRecord, is_forward
from .selection import Ranking, held_inputs, rank_nodes

E = ExecutionStateType
J = JobStateType


@dataclass(frozen=True)
class SchedulerSettings:
    """The node's scheduling knobs (seconds unless named otherwise)."""

    queue_timeout: float = 0.0  # default wait for a slot when none is set
    node_timeout: float = 30.0
    execution_lease_timeout: float = 45.0
    default_execution_timeout: float = 0.0
    # executions one job may use up before it fails: every failed attempt
    # stays in the record, so without a bound a failing job grows without end
    max_attempts_per_slot: int = 10
    run_grace: float = 60.0  # beyond an execution's own timeouts
    queue_retry: float = 1.0  # first retry of a queued job; doubles up to:
    queue_retry_max: float = 8.0


@dataclass(frozen=True)
class World:
    """What a reaction may know beyond the job: the node table and the time."""

    nodes: Sequence[NodeView] = ()
    lost: Collection[str] = frozenset()  # nodes known to be unreachable
    now: float = 0.0  # monotonic seconds
    now_ns: int = 0  # wall clock, ns since the epoch


@dataclass
class Plan:
    """What the orchestrator must do once the record's change is stored."""

    asks: list[Execution] = field(default_factory=list)
    cancels: list[tuple[Execution, str]] = field(default_factory=list)
    open_call: bool = False
    expired: int = 0  # executions given up on: their node went quiet or lost
    refused: str = ""  # for an update: why it is not taken


class Scheduler:
    """The policy; holds only its settings, never a job's state."""

    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings

    # -- placement -------------------------------------------------------

    def place(self, record: JobRecord, world: World) -> Plan:
        plan = Plan()
        if record.terminal:
            return plan
        outcome = record.outcome()
        if outcome is not None:
            record.set_state(*outcome)
            return plan
        job = record.job
        need = requirements(job)
        ranking = rank_nodes(need, self._eligible(record, world), exclude=_busy(record))
        wanted = (
            len(ranking.candidates) if job.runs_everywhere else record.slots_wanted()
        )
        if wanted == 0:
            return plan
        # a node that declined (busy, say) did not try: only attempts count;
        # declines are bounded by the queue timeout instead
        attempts = sum(
            1 for e in record.executions.values() if e.state != E.AskForBidRejected
        )
        limit = self.settings.max_attempts_per_slot * max(job.Count, 1)
        if not job.runs_everywhere and attempts >= limit:
            why = explain(record, ranking)
            record.set_state(
                J.Failed, f"gave up after {attempts} executions failed: {why}"
            )
            return plan
        chosen = ranking.candidates[:wanted]
        if not chosen:
            return (
                self._unplaceable(record, ranking, world) if not record.live() else plan
            )
        record.queued_since = None
        evaluation = new_evaluation_id()
        for node in chosen:
            plan.asks.append(
                record.new_execution(node.node_id, evaluation, _why(node, need))
            )
        return plan

    def _eligible(self, record: JobRecord, world: World) -> Sequence[NodeView]:
        """An ops job runs on the nodes that matched when it was placed,
        not on nodes that join later: once placed, only those are retried."""
        if record.job.Type != "ops" or not record.executions:
            return world.nodes
        placed = {e.NodeID for e in record.executions.values()}
        return [node for node in world.nodes if node.node_id in placed]

    def _unplaceable(self, record: JobRecord, ranking: Ranking, world: World) -> Plan:
        reason = explain(record, ranking)
        transient = (
            not ranking.considered
            or "disconnected" in ranking.refusals
            or any(d.transient for d in record.declined.values())
        )
        limit = record.job.task.Timeouts.QueueTimeout or (
            self.settings.queue_timeout if transient else 0
        )
        if record.queued_since is None:
            record.queued_since = world.now
        waited = world.now - record.queued_since
        if waited < limit:
            if record.state != J.Queued:
                record.set_state(J.Queued, reason, event=f"Job queued. {reason}")
            return Plan(open_call=True)
        if waited > 0.5:
            reason += f" after waiting {waited:.0f} s in the queue"
        record.set_state(J.Failed, reason)
        return Plan()

    # -- answers and reports --------------------------------------------

    def on_bid(
        self,
        record: JobRecord,
        execution_id: str,
        bid: Bid | None,
        error: str,
        world: World,
    ) -> Plan:
        execution = record.executions.get(execution_id)
        if execution is None or execution.state != E.AskForBid:
            return Plan()
        if bid is None:
            record.declined[execution.NodeID] = Declined("unreachable", transient=True)
            record.move(execution, E.Failed, f"could not ask node for a bid: {error}")
            return Plan()
        if not bid.Accepted:
            busy = bid.Reason.startswith("busy")
            record.declined[execution.NodeID] = Declined(bid.Reason, transient=busy)
            record.move(execution, E.AskForBidRejected, bid.Reason)
            return Plan()
        # asks go only to the nodes the job needs, so an accepted bid is
        # also the go-ahead: the node has already started (or queued) it
        record.move(execution, E.AskForBidAccepted)
        record.move(execution, E.BidAccepted, desired=ExecutionDesiredStateType.Running)
        record.alive_at[execution.ID] = world.now
        if record.state in (J.Pending, J.Queued):
            record.set_state(J.Running)
        return Plan()

    def on_update(
        self, record: JobRecord, update: ExecutionUpdate, world: World
    ) -> Plan:
        """Apply `update`; `Plan.refused` says why it is not taken, if so."""
        execution = record.executions.get(update.ExecutionID)
        if execution is None:
            return Plan(refused=f"unknown execution {update.ExecutionID}")
        if execution.NodeID != update.NodeID:
            return Plan(refused=f"execution {update.ExecutionID} was not given to you")
        record.alive_at[execution.ID] = world.now
        if not is_forward(execution.state, update.State):
            return Plan()  # old news: it is already recorded
        if update.State == E.Completed and record.job.long_running:
            fail(record, execution, "execution completed unexpectedly", retry=True)
            return Plan()
        if update.State == E.Failed:
            retry = update.Details.get("Retryable") == "true"
            fail(record, execution, update.Message, retry=retry, details=update.Details)
            return Plan()
        if update.State == E.Completed and execution.state < E.Running:
            record.move(execution, E.Running)  # folded into this report
        record.move(
            execution,
            update.State,
            update.Message,
            run_output=update.RunOutput,
            published=update.PublishedResult,
        )
        if update.State in (E.Running, E.Publishing) and record.state != J.Running:
            record.set_state(J.Running)
        outcome = record.outcome()
        if outcome is not None:
            record.set_state(*outcome)
        return Plan()

    def on_node_lost(self, record: JobRecord, node_id: str, reason: str) -> Plan:
        for execution in record.active():
            if execution.NodeID == node_id:
                fail(record, execution, reason, retry=True)
        return Plan()

    def on_delivery_failed(
        self, record: JobRecord, execution_id: str, reason: str
    ) -> Plan:
        execution = record.executions.get(execution_id)
        if execution is not None and execution.state.active:
            fail(record, execution, reason, retry=True)
        return Plan()

    def on_stop(self, record: JobRecord, reason: str) -> Plan:
        record.set_state(
            J.Stopped, reason, event="Job requested to stop before completion"
        )
        return Plan()

    def on_superseded(self, record: JobRecord, version: int) -> Plan:
        """A new version replaces this one: its task ends, `finish` cancels
        what it still runs."""
        record.superseded_by = version
        return Plan()

    def on_nodes_changed(self, record: JobRecord) -> Plan:
        forget_transient(record)
        return Plan()

    # -- time ------------------------------------------------------------

    def on_timer(self, record: JobRecord, world: World) -> Plan:
        job = record.job
        total = job.task.Timeouts.TotalTimeout
        if total and world.now_ns - job.CreateTime >= total * 1e9:
            record.set_state(J.Failed, f"job timed out after {total} s (TotalTimeout)")
            return Plan()
        plan = Plan()
        for execution in record.active():
            if record.terminal or not execution.state.active:
                continue
            late = self._not_started(record, execution, world)
            if late:
                record.set_state(J.Failed, late)
                return plan
            reason = self._why_lost(record, execution, world)
            if reason:
                plan.expired += 1
                # placed again, but not on the node that went quiet on it
                fail(record, execution, reason, retry=True, avoid_node=True)
        forget_transient(record)
        return plan

    def _not_started(
        self, record: JobRecord, execution: Execution, world: World
    ) -> str:
        """A job's QueueTimeout bounds its whole wait for a slot, the time
        in a busy compute node's own queue included."""
        limit = record.job.task.Timeouts.QueueTimeout
        if not limit or execution.state != E.BidAccepted or record.job.long_running:
            return ""
        waited = (world.now_ns - record.job.CreateTime) / 1e9
        if waited < limit:
            return ""
        node = short_node_id(execution.NodeID)
        return (
            f"the job did not start within its queue timeout of {limit} s "
            f"(queued on node {node} for lack of a free slot)"
        )

    def _why_lost(self, record: JobRecord, execution: Execution, world: World) -> str:
        """Why an active execution is to be given up on, if it is."""
        node = short_node_id(execution.NodeID)
        # a node not heard of yet (this requester just restarted) is not
        # lost: its lease, below, decides if it stays silent
        if execution.NodeID in world.lost:
            return f"node {node} is not reachable"
        if execution.state < E.BidAccepted:
            return ""
        named = record.alive_at.setdefault(execution.ID, world.now)
        silent = world.now - named
        if silent > self.settings.execution_lease_timeout:
            return (
                f"node {node} stopped reporting this execution "
                f"(not named for {silent:.0f} s)"
            )
        limit = self.longest_run(record.job)
        if limit is not None and world.now_ns - execution.CreateTime > limit * 1e9:
            return f"node {node} did not finish it within {limit:.0f} s"
        return ""

    def longest_run(self, job: Job) -> float | None:
        """How long an execution may take, queue and grace included, before
        the requester gives up on its node (which should have ended it)."""
        if job.long_running:
            return None
        timeouts = job.task.Timeouts
        run = timeouts.ExecutionTimeout or self.settings.default_execution_timeout
        queue = timeouts.QueueTimeout or self.settings.queue_timeout
        return run + queue + self.settings.run_grace

    def wake_at(self, record: JobRecord, world: World) -> float:
        """When the job's timer must next run, on the monotonic clock."""
        wake = math.inf
        if record.queued_since is not None:
            waited = world.now - record.queued_since
            retry = min(
                max(self.settings.queue_retry, waited), self.settings.queue_retry_max
            )
            wake = world.now + retry
        if record.active():
            wake = min(wake, world.now + self.settings.node_timeout)
        timeouts = record.job.task.Timeouts
        elapsed = (world.now_ns - record.job.CreateTime) / 1e9
        for limit in (timeouts.TotalTimeout, self._queue_limit(record)):
            if limit:
                wake = min(wake, world.now + max(limit - elapsed, 0))
        return wake

    def _queue_limit(self, record: JobRecord) -> float:
        waiting = any(e.state == E.BidAccepted for e in record.active())
        return record.job.task.Timeouts.QueueTimeout if waiting else 0

    def finish(self, record: JobRecord) -> Plan:
        """The job has ended: cancel the executions it no longer needs."""
        reason = record.ending()
        plan = Plan()
        for execution in record.active():
            record.move(execution, E.Cancelled, reason)
            plan.cancels.append((execution, reason))
        return plan


def requirements(job: Job) -> Requirements:
    return Requirements.of(job, job.task.Resources.parsed(Resources()))


def fail(
    record: JobRecord,
    execution: Execution,
    reason: str,
    *,
    retry: bool,
    details: dict[str, str] | None = None,
    avoid_node: bool = False,
) -> None:
    """Fail one execution; without `retry` (and not everywhere) the job too."""
    record.move(execution, E.Failed, reason, details=details)
    record.declined[execution.NodeID] = Declined(
        reason, transient=retry and not avoid_node
    )
    if not retry and not record.job.runs_everywhere:
        node = short_node_id(execution.NodeID)
        record.set_state(J.Failed, f"execution on node {node} failed: {reason}")


def forget_transient(record: JobRecord) -> None:
    record.declined = {n: d for n, d in record.declined.items() if not d.transient}


def explain(record: JobRecord, ranking: Ranking) -> str:
    refusals = ranking.refusals.copy()
    refusals.pop("already tried", None)
    for declined in record.declined.values():
        refusals[f"declined: {declined.reason}"] += 1
    return Ranking([], refusals, ranking.considered).explain()


def _busy(record: JobRecord) -> set[str]:
    """Nodes not to ask again: they hold a live execution (an ops job's
    completed ones too) or declined."""
    busy = {e.NodeID for e in record.live()}
    if record.job.Type == "ops":
        busy |= {e.NodeID for e in record.executions.values() if e.state == E.Completed}
    return busy | set(record.declined)


def _why(node: NodeView, need: Requirements) -> str:
    """Why this node was chosen, when it is more than its free capacity."""
    held = held_inputs(node, need)
    if not held:
        return ""
    return "it holds the input " + ", ".join(f"ipfs://{cid}" for cid in held)
