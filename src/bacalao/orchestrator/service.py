"""The orchestrator: takes jobs, and drives each to its end by the scheduler.

Every active job has one task (`_drive`) that owns its `JobRecord`. What
concerns the job arrives in that task's inbox and is handled in order, so
a job's state has one writer and no locks. Each message goes to the pure
`Scheduler`, which changes the record and returns a `Plan`; the task
stores the change (one transaction) and only then carries the plan out:
asks for bids, cancels, an open call. The service itself decides nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from ..jobstore import JobStore
from ..models.ids import new_evaluation_id, now_ns
from ..models.job import Job
from ..models.states import ExecutionStateType, JobStateType
from ..network.nodes import NodeManager
from ..p2p.interfaces import Broadcast, Calls
from ..protocol import EXECUTION_UPDATES, EXECUTIONS_ALIVE, OPEN_CALL_ANSWER
from .active import ActiveJobs
from .committer import Committer
from .exceptions import InvalidJobState, JobNotFound
from .inbox import (
    BidAnswered,
    DeliveryFailed,
    Envelope,
    Inboxes,
    Message,
    NodeLost,
    NodesChanged,
    StopRequested,
    Superseded,
    Updated,
)
from .outbound import Outbound
from .record import JobRecord
from .reports import Reports
from .scheduler import Plan, Scheduler, World
from .settings import OrchestratorSettings
from .versioning import Submissions

log = logging.getLogger(__name__)
E = ExecutionStateType

# On a change in the node set, queued jobs are woken oldest first, this many
# at a time: waking thousands at once to race for the same free slot is a
# storm that starves the loop (seen with 2,000 jobs on 10 nodes).
WAKE_ON_CHANGE = 32
CHECK_EVERY = 5.0  # liveness and lease checks of a job's executions


class Orchestrator:
    """Requester side of a node: submit, stop, and drive jobs to an end."""

    def __init__(
        self,
        node_id: str,
        store: JobStore,
        nodes: NodeManager,
        calls: Calls,
        broadcast: Broadcast,
        settings: OrchestratorSettings,
        on_change: Callable[[JobRecord], None],
    ) -> None:
        self.node_id = node_id
        self.store = store
        self.nodes = nodes
        self.settings = settings
        self.scheduler = Scheduler(settings.scheduler)
        self.committer = Committer(store, on_change)
        self.active = ActiveJobs()
        self.inboxes = Inboxes()
        self.outbound = Outbound(
            node_id,
            calls,
            broadcast,
            self.inboxes,
            bid_timeout=settings.bid_timeout,
            is_lost=nodes.is_lost,
            on_answer=nodes.observe_alive,
        )
        self.submissions = Submissions(self)
        self.recovered = False  # updates wait for every job to be resumed
        self.expired_executions = 0  # given up: node lost or silent on them
        self._nursery: trio.Nursery | None = None

    @property
    def storage_problem(self) -> str:
        """Why the store cannot be written now, if it cannot."""
        return self.committer.storage_problem

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        reports = Reports(self)
        calls = self.outbound.calls
        calls.register(EXECUTION_UPDATES, reports.on_updates)
        calls.register(OPEN_CALL_ANSWER, reports.on_open_call_answer)
        calls.register(EXECUTIONS_ALIVE, reports.on_alive)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await self._recover(nursery)
            self.recovered = True
            self.nodes.on_lost(self._node_lost)
            nursery.start_soon(self._forward_node_changes)
            task_status.started()

    async def _recover(self, nursery: trio.Nursery) -> None:
        """Pick up, after a restart, every job this node owned and had not ended."""
        for job_id in await self.store.owned_active_job_ids():
            snap = await self.store.snapshot(job_id)
            if snap is None:
                continue
            record = JobRecord(
                job=snap.Job,
                executions={e.ID: e for e in snap.Executions},
                history=snap.History,
            )
            log.info("resuming job %s (%s)", job_id, record.state.name)
            self.start(record, nursery)

    def start(self, record: JobRecord, nursery: trio.Nursery | None = None) -> None:
        """Drive `record` (stored already) in a task of its own."""
        nursery = nursery or self._nursery
        if nursery is None:
            raise RuntimeError("the orchestrator is not running")
        self.active.add(record)
        nursery.start_soon(self._drive, record, self.inboxes.open(record.job.ID))

    # -- API -------------------------------------------------------------

    async def submit(self, job: Job, *, force: bool = False) -> tuple[str, str]:
        """Store and start `job` (or the next version of the job of its
        name); returns (job ID, evaluation ID)."""
        return await self.submissions.submit(job, force=force)

    async def rerun(self, job_id: str, version: int = 0, reason: str = "") -> Job:
        return await self.submissions.rerun(job_id, version, reason)

    async def diff(self, job: Job) -> str:
        return await self.submissions.diff(job)

    async def stop(self, job_id: str, reason: str) -> str:
        """Stop an active job owned by this node; returns the evaluation ID."""
        if job_id not in self.active:
            job = await self.store.get_job(job_id)
            if job is None:
                raise JobNotFound(job_id)
            state = job.State.StateType
            if state.terminal:
                raise InvalidJobState.already_ended(job_id, state.name)
            return ""
        request = StopRequested(reason or "stopped by user")
        await self.inboxes.deliver(job_id, request, wait=True)
        return request.result[0] if request.result else ""

    def owns(self, job_id: str) -> bool:
        return job_id in self.active

    # -- events from the node table -------------------------------------

    def _node_lost(self, node_id: str, reason: str) -> None:
        for record in self.active:
            if any(e.NodeID == node_id for e in record.active()):
                self.inboxes.post(record.job.ID, NodeLost(node_id, reason))

    async def _forward_node_changes(self) -> None:
        while True:
            await self.nodes.changed.wait()
            queued = 0
            for record in self.active:
                if record.job.runs_everywhere:
                    self.inboxes.post(record.job.ID, NodesChanged())
                elif record.state in (
                    JobStateType.Pending,
                    JobStateType.Queued,
                ) and not (record.live()):
                    self.inboxes.post(record.job.ID, NodesChanged())
                    queued += 1
                    if queued >= WAKE_ON_CHANGE:
                        break

    # -- the job's own task ---------------------------------------------

    async def _drive(
        self, record: JobRecord, inbox: trio.MemoryReceiveChannel[Envelope]
    ) -> None:
        try:
            await self._drive_to_end(record, inbox)
        except Exception:
            # a bug in one job's handling must not stop the node; the job
            # stays stored as last committed and resumes after a restart
            log.exception(
                "job %s: stopped driving it after an internal error", record.job.ID
            )
        finally:
            self.active.remove(record)
            self.outbound.forget(record.job.ID)
            self.inboxes.close(record.job.ID, inbox)

    async def _drive_to_end(
        self, record: JobRecord, inbox: trio.MemoryReceiveChannel[Envelope]
    ) -> None:
        async with trio.open_nursery() as calls:
            # after a restart, ask again where an answer may have been lost
            # (asking is idempotent: a node answers a repeated ask as it did)
            resumed = Plan(asks=[e for e in record.active() if e.state == E.AskForBid])
            await self._carry_out(record, resumed, calls)
            await self._apply(
                record,
                self.scheduler.place(record, self._world(record, nodes=True)),
                calls,
            )
            while not record.terminal:
                received = None
                # only the wait is bounded by the timer: a message being
                # handled (and committed) is never cut off halfway
                with trio.move_on_at(
                    self.scheduler.wake_at(record, self._world(record))
                ):
                    received = await inbox.receive()
                if received is not None:
                    message, done = received
                    try:
                        await self._apply(record, self._react(record, message), calls)
                    finally:  # answered even if handling failed
                        if done is not None:
                            done.set()
                now = trio.current_time()
                if received is None or now - record.checked_at >= CHECK_EVERY:
                    record.checked_at = now
                    plan = self.scheduler.on_timer(record, self._world(record))
                    self.expired_executions += plan.expired
                    await self._apply(record, plan, calls)
                if not record.terminal:
                    plan = self.scheduler.place(record, self._world(record, nodes=True))
                    await self._apply(record, plan, calls)
            calls.cancel_scope.cancel()
        await self._apply(record, self.scheduler.finish(record), None)

    def _react(self, record: JobRecord, message: Message) -> Plan:
        s, world = self.scheduler, self._world(record)
        if isinstance(message, BidAnswered):
            return s.on_bid(
                record, message.execution_id, message.bid, message.error, world
            )
        if isinstance(message, Updated):
            plan = s.on_update(record, message.update, world)
            message.refused, message.handled = plan.refused, True
            return plan
        if isinstance(message, NodeLost):
            return s.on_node_lost(record, message.node_id, message.reason)
        if isinstance(message, DeliveryFailed):
            return s.on_delivery_failed(record, message.execution_id, message.reason)
        if isinstance(message, StopRequested):
            message.result.append(new_evaluation_id())
            return s.on_stop(record, message.reason)
        if isinstance(message, Superseded):
            return s.on_superseded(record, message.version)
        assert isinstance(message, NodesChanged)
        return s.on_nodes_changed(record)

    def _world(self, record: JobRecord, *, nodes: bool = False) -> World:
        """What the scheduler may know; the node table only for placing."""
        lost = {e.NodeID for e in record.active() if self.nodes.is_lost(e.NodeID)}
        return World(
            nodes=self.nodes.views() if nodes else (),
            lost=lost,
            now=trio.current_time(),
            now_ns=now_ns(),
        )

    async def _apply(
        self, record: JobRecord, plan: Plan, calls: trio.Nursery | None
    ) -> None:
        """Store what the scheduler changed, then carry out its plan."""
        self.active.index(record.job.ID, plan.asks)  # the only new executions
        await self.committer.commit(record)
        await self._carry_out(record, plan, calls)

    async def _carry_out(
        self, record: JobRecord, plan: Plan, calls: trio.Nursery | None
    ) -> None:
        for execution in plan.asks:
            assert calls is not None
            calls.start_soon(self.outbound.ask_bid, record.job, execution)
        for execution, reason in plan.cancels:
            assert self._nursery is not None  # outlives the job's task
            self._nursery.start_soon(self.outbound.cancel, execution, reason)
        if plan.open_call:
            await self.outbound.open_call(record.job)
