"""The orchestrator: takes jobs, places them, and follows them to the end.

Every active job is driven by one task (`_drive`) that owns its
`JobRecord`. Everything that concerns the job — bid answers, execution
updates, lost nodes, a stop request, a timer — arrives in that task's inbox
and is handled in order, so a job's state has one writer and no locks.
Each change is persisted (store.apply, one transaction) before it is acted
on or acknowledged, and then published to the shared view.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from ..config import NodeConfig
from ..jobstore import JobStore, StorageUnavailable
from ..models.execution import Execution
from ..models.ids import new_evaluation_id, now_ns, short_node_id
from ..models.job import Job
from ..models.resources import Resources
from ..models.states import ExecutionDesiredStateType, ExecutionStateType, JobStateType
from ..models.wire import (
    Ack,
    AskBid,
    Bid,
    BidCall,
    CancelExecution,
    ExecutionsAlive,
    ExecutionUpdate,
    ExecutionUpdates,
    LeaseAnswer,
    OpenBid,
    UpdatesAnswer,
)
from ..network.nodes import NodeManager, NodeView
from ..p2p.exceptions import P2PError, RemoteError
from ..p2p.gossip import Gossip
from ..p2p.rpc import HandlerError, Rpc
from ..protocol import (
    ASK_BID,
    BIDS,
    CANCEL,
    EXECUTION_UPDATES,
    EXECUTIONS_ALIVE,
    OPEN_BID,
)
from .exceptions import InvalidJobState, JobNotFound, NotFound
from .record import Declined, JobRecord, is_forward
from .selection import Ranking, Requirements, held_inputs, rank_nodes
from .submission import JobDefaults, prepare_job
from .versions import NameLocks, check_rerunnable, check_update, next_version, spec_diff

log = logging.getLogger(__name__)
E = ExecutionStateType
J = JobStateType

QUEUE_RETRY = 1.0  # first retry of a queued job; doubles up to QUEUE_RETRY_MAX
QUEUE_RETRY_MAX = 8.0
# On a change in the node set, queued jobs are woken oldest first, this many
# at a time: waking thousands at once to race for the same free slot is a
# storm that starves the loop (seen with 2,000 jobs on 10 nodes).
WAKE_ON_CHANGE = 32
# Executions one job may use up before it fails: every failed attempt stays in
# the record, so without a bound a job that keeps failing grows without end.
MAX_ATTEMPTS_PER_SLOT = 10
BID_ASKS = 5  # asks of one execution whose answers time out, before it fails
BID_ASK_BACKOFF = 0.5  # before the second ask; doubles, up to 4 s
OPEN_CALL_EVERY = 2.0
OPEN_CALL_GAP = 0.5  # between any two open calls of this orchestrator
INBOX_SIZE = 1024
CHECK_EVERY = 5.0  # liveness and lease checks of a job's executions
RUN_GRACE = 60.0  # beyond an execution's own timeouts, before we give up on it
STORE_RETRY = 0.5  # first retry of a write the disk refused; doubles up to:
STORE_RETRY_MAX = 10.0


@dataclass(frozen=True)
class BidAnswered:
    execution_id: str
    bid: Bid | None
    error: str = ""


@dataclass
class Updated:
    """An execution update; `refused` gets a reason if it is not taken."""

    update: ExecutionUpdate
    handled: bool = False
    refused: str = ""


@dataclass(frozen=True)
class NodeLost:
    node_id: str
    reason: str


@dataclass(frozen=True)
class NodesChanged:
    pass


@dataclass(frozen=True)
class DeliveryFailed:
    execution_id: str
    reason: str


@dataclass
class StopRequested:
    reason: str
    result: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Superseded:
    """A new version of the job replaces the one being driven."""

    version: int


Message = (
    BidAnswered
    | Updated
    | NodeLost
    | NodesChanged
    | DeliveryFailed
    | StopRequested
    | Superseded
)


@dataclass
class _Mailbox:
    send: trio.MemorySendChannel[tuple[Message, trio.Event | None]]
    receive: trio.MemoryReceiveChannel[tuple[Message, trio.Event | None]]
    ended: trio.Event = field(default_factory=trio.Event)  # its task is done


class Orchestrator:
    """Requester side of a node: submit, stop, and drive jobs to an end."""

    def __init__(
        self,
        node_id: str,
        store: JobStore,
        nodes: NodeManager,
        rpc: Rpc,
        gossip: Gossip,
        config: NodeConfig,
        on_change: Callable[[JobRecord], None],
    ) -> None:
        self.node_id = node_id
        self.store = store
        self.nodes = nodes
        self.rpc = rpc
        self.gossip = gossip
        self._open_calls: dict[str, float] = {}
        self._last_open_call = -math.inf
        self.config = config
        self._on_change = on_change
        self._defaults = JobDefaults(
            cpu=config.default_cpu,
            memory=config.default_memory,
            publisher=config.default_publisher,
        )
        self._records: dict[str, JobRecord] = {}
        self._mailboxes: dict[str, _Mailbox] = {}
        self._nursery: trio.Nursery | None = None
        self._recovered = False  # updates wait for every job to be resumed
        self.storage_problem = ""  # why the store cannot be written, if so
        self.expired_executions = 0  # given up: node lost or silent on them
        rpc.register(EXECUTION_UPDATES, self._on_updates_rpc)
        rpc.register(OPEN_BID, self._on_open_bid)
        rpc.register(EXECUTIONS_ALIVE, self._on_alive)
        self._execution_jobs: dict[str, str] = {}  # execution ID -> job ID
        self._names = NameLocks()  # one new version of a named job at a time

    # -- lifecycle -------------------------------------------------------

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await self._recover()
            self._recovered = True
            self.nodes.on_lost(self._node_lost)
            nursery.start_soon(self._forward_node_changes)
            task_status.started()

    async def _recover(self) -> None:
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
            self._start(record)

    def _start(self, record: JobRecord) -> None:
        assert self._nursery is not None
        send, receive = trio.open_memory_channel[tuple[Message, trio.Event | None]](
            INBOX_SIZE
        )
        self._records[record.job.ID] = record
        self._mailboxes[record.job.ID] = _Mailbox(send, receive)
        for execution_id in record.executions:
            self._execution_jobs[execution_id] = record.job.ID
        self._nursery.start_soon(self._drive, record)

    # -- API -------------------------------------------------------------

    async def submit(self, job: Job, *, force: bool = False) -> tuple[str, str]:
        """Store and start scheduling `job`; returns (job ID, evaluation ID).

        A job already called `job.Name` in its namespace gets `job` as its
        next version instead (`NothingChanged` if it would be the same,
        unless `force`; `InvalidJobState` if another node owns it).
        """
        stored = prepare_job(
            job, node_id=self.node_id, now_ns=now_ns(), defaults=self._defaults
        )
        if job.Name:
            async with self._names.hold(stored.Namespace, stored.Name):
                named = await self.store.jobs_named(stored.Name, stored.Namespace)
                if named:
                    latest = named[0]
                    await self._check_owned(latest)
                    check_update(latest, stored, force=force)
                    message = f"Job updated to version {latest.Version + 1}"
                    updated = await self._replace(latest, stored, message)
                    return updated.ID, new_evaluation_id()
                return await self._submit_new(stored)
        return await self._submit_new(stored)

    async def _submit_new(self, stored: Job) -> tuple[str, str]:
        record = JobRecord(job=stored)
        record.add_event("Job submitted", "Submission")
        # tried even while the store is failing: that is how we notice it
        # has room again; a job not stored is not accepted
        await self._commit(record, retry=False)
        self._start(record)
        return stored.ID, new_evaluation_id()

    async def stop(self, job_id: str, reason: str) -> str:
        """Stop an active job owned by this node; returns the evaluation ID."""
        if job_id not in self._records:
            job = await self.store.get_job(job_id)
            if job is None:
                raise JobNotFound(job_id)
            if job.State.StateType == J.Completed:
                raise InvalidJobState(
                    f"cannot stop job in state {job.State.StateType.name}"
                )
            return ""
        request = StopRequested(reason or "stopped by user")
        await self._deliver(job_id, request, wait=True)
        return request.result[0] if request.result else ""

    def owns(self, job_id: str) -> bool:
        return job_id in self._records

    # -- versions --------------------------------------------------------

    async def rerun(self, job_id: str, version: int = 0, reason: str = "") -> Job:
        """Run the spec of `version` (0: the latest) again as the job's next
        version; returns that version."""
        latest = await self.store.get_job(job_id)
        if latest is None:
            raise JobNotFound(job_id)
        async with self._names.hold(latest.Namespace, latest.Name):
            latest = await self.store.get_job(job_id) or latest
            await self._check_owned(latest)
            check_rerunnable(latest)
            spec = latest
            if version not in (0, latest.Version):
                versions = await self.store.versions(job_id)
                found = [v for v in versions if v.Version == version]
                if not found:
                    raise NotFound(
                        f"job {job_id} has no version {version}",
                        hint=f"its versions are 1 to {latest.Version}",
                    )
                spec = found[0]
            message = f"Job rerun from version {spec.Version}"
            return await self._replace(
                latest, spec, message + (f": {reason}" if reason else "")
            )

    async def diff(self, job: Job) -> str:
        """How `job` differs from the stored job of its name ("" if not at all)."""
        submitted = prepare_job(
            job, node_id=self.node_id, now_ns=now_ns(), defaults=self._defaults
        )
        named = await self.store.jobs_named(job.Name, submitted.Namespace)
        if not job.Name or not named:
            raise JobNotFound(job.Name or "(the spec has no Name)")
        return spec_diff(named[0], submitted)

    async def _check_owned(self, job: Job) -> None:
        owner = await self.store.requester_of(job.ID)
        if owner != self.node_id:
            raise InvalidJobState(
                f"job {job.Name!r} ({job.ID}) is owned by another node; "
                "its new versions are made there",
                hint=f"submit it to node {owner}",
            )

    async def _replace(self, latest: Job, spec: Job, message: str) -> Job:
        """Make `spec` the version after `latest`: end the task of the
        current version (cancelling its executions), then store the new
        version and start placing it."""
        box = self._mailboxes.get(latest.ID)
        if box is not None:
            await self._deliver(latest.ID, Superseded(latest.Version + 1), wait=True)
            await box.ended.wait()
            latest = await self.store.get_job(latest.ID) or latest
        job = next_version(latest, spec, now_ns=now_ns())
        record = JobRecord(job=job, history=await self.store.history(job.ID))
        record.add_event(message, "Submission")
        await self._commit(record, retry=False)
        self._start(record)
        return job

    async def _on_updates_rpc(
        self, peer: str, batch: ExecutionUpdates
    ) -> UpdatesAnswer:
        """A compute node's reports. Each is answered only once it is stored
        against its execution (in a few group commits: the jobs' loops
        handle them side by side) or refused with a reason; while this node
        cannot store them yet, the whole call is refused as unavailable,
        so the sender keeps them and tries again."""
        if any(update.NodeID != peer for update in batch.Updates):
            raise HandlerError("bad_request", "an update must come from its own node")
        if not self._recovered:
            raise HandlerError("unavailable", "this node is resuming its jobs")
        self.nodes.observe_alive(peer)
        outcomes: dict[str, str | None] = {}
        async with trio.open_nursery() as nursery:
            for update in batch.Updates:
                nursery.start_soon(self._take_update, update, outcomes)
        if any(reason is None for reason in outcomes.values()):
            raise HandlerError(
                "unavailable", self.storage_problem or "the job is not ready yet"
            )
        refused = {key: reason for key, reason in outcomes.items() if reason}
        return UpdatesAnswer(Refused=refused)

    async def _take_update(
        self, update: ExecutionUpdate, outcomes: dict[str, str | None]
    ) -> None:
        """Record in `outcomes` "" (stored), a refusal, or None (try later)."""
        message = Updated(update)
        await self._deliver(update.JobID, message, wait=True)
        if message.handled:
            outcomes[update.ExecutionID] = message.refused
            return
        outcomes[update.ExecutionID] = await self._update_of_inactive_job(update)

    async def _update_of_inactive_job(self, update: ExecutionUpdate) -> str | None:
        """An update for a job with no task here: ended, unknown or not ours."""
        owner = await self.store.requester_of(update.JobID)
        if owner is None:
            return f"unknown job {update.JobID}"
        if owner != self.node_id:
            return f"job {update.JobID} is not owned by this node"
        job = await self.store.get_job(update.JobID)
        if job is None or not job.State.StateType.terminal:
            return None  # its task is (re)starting: try again
        for execution in await self.store.executions(update.JobID):
            if update.ExecutionID == execution.ID:
                if execution.NodeID != update.NodeID:
                    return f"execution {update.ExecutionID} was not given to you"
                return ""  # the job has ended; nothing left to record
        return f"unknown execution {update.ExecutionID}"

    async def _on_open_bid(self, peer: str, answer: OpenBid) -> Ack:
        """A node answered an open call: add it to the view, queued jobs retry."""
        if answer.Info.NodeID != peer:
            raise HandlerError("bad_request", "an open bid must come from its own node")
        self.nodes.observe_info(answer.Info)
        self._post(answer.JobID, NodesChanged())
        return Ack()

    # -- inbox -----------------------------------------------------------

    async def _deliver(
        self, job_id: str, message: Message, *, wait: bool = False
    ) -> bool:
        box = self._mailboxes.get(job_id)
        if box is None:
            return False
        done = trio.Event() if wait else None
        try:
            await box.send.send((message, done))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        if done is not None:
            await done.wait()
        return True

    def _post(self, job_id: str, message: Message) -> None:
        box = self._mailboxes.get(job_id)
        if box is not None:
            try:
                box.send.send_nowait((message, None))
            except (
                trio.WouldBlock,
                trio.BrokenResourceError,
                trio.ClosedResourceError,
            ):
                log.warning("inbox of job %s is full; dropped %s", job_id, message)

    def _node_lost(self, node_id: str, reason: str) -> None:
        for job_id, record in list(self._records.items()):
            if any(e.NodeID == node_id for e in record.active()):
                self._post(job_id, NodeLost(node_id, reason))

    async def _forward_node_changes(self) -> None:
        while True:
            await self.nodes.changed.wait()
            queued = 0
            for job_id, record in list(self._records.items()):
                if record.job.runs_everywhere:
                    self._post(job_id, NodesChanged())
                elif record.state in (J.Pending, J.Queued) and not record.live():
                    self._post(job_id, NodesChanged())
                    queued += 1
                    if queued >= WAKE_ON_CHANGE:
                        break

    # -- the job's own task ---------------------------------------------

    async def _drive(self, record: JobRecord) -> None:
        job_id = record.job.ID
        box = self._mailboxes[job_id]
        try:
            await self._drive_to_end(record, box)
        except Exception:
            # a bug in one job's handling must not stop the node; the job
            # stays stored as last committed and resumes after a restart
            log.exception("job %s: stopped driving it after an internal error", job_id)
        finally:
            for execution_id in record.executions:
                self._execution_jobs.pop(execution_id, None)
            self._records.pop(job_id, None)
            self._mailboxes.pop(job_id, None)
            self._open_calls.pop(job_id, None)
            box.send.close()
            _release_waiters(box)
            box.ended.set()

    async def _drive_to_end(self, record: JobRecord, box: _Mailbox) -> None:
        async with trio.open_nursery() as calls:
            self._resume_in_flight(record, calls)
            await self._place(record, calls)
            while not record.terminal:
                received = None
                # only the wait is bounded by the timer: a message being
                # handled (and committed) is never cut off halfway
                with trio.move_on_at(self._wake_at(record)):
                    received = await box.receive.receive()
                if received is not None:
                    message, done = received
                    try:
                        await self._handle(record, message, calls)
                    finally:  # answered even if handling failed
                        if done is not None:
                            done.set()
                now = trio.current_time()
                if received is None or now - record.checked_at >= CHECK_EVERY:
                    record.checked_at = now
                    await self._on_timer(record)
                if not record.terminal:
                    await self._place(record, calls)
            calls.cancel_scope.cancel()
        await self._finish(record)

    def _wake_at(self, record: JobRecord) -> float:
        wake = math.inf
        if record.queued_since is not None:
            waited = trio.current_time() - record.queued_since
            wake = trio.current_time() + min(max(QUEUE_RETRY, waited), QUEUE_RETRY_MAX)
        if record.active():
            wake = min(wake, trio.current_time() + self.config.node_timeout)
        total = record.job.task.Timeouts.TotalTimeout
        if total:
            elapsed = (now_ns() - record.job.CreateTime) / 1e9
            wake = min(wake, trio.current_time() + max(total - elapsed, 0))
        return wake

    async def _handle(
        self, record: JobRecord, message: Message, calls: trio.Nursery
    ) -> None:
        if isinstance(message, BidAnswered):
            await self._on_bid(record, message, calls)
        elif isinstance(message, Updated):
            message.refused = await self._on_update(record, message.update)
            message.handled = True
        elif isinstance(message, NodeLost):
            await self._fail_on_node(record, message.node_id, message.reason)
        elif isinstance(message, DeliveryFailed):
            execution = record.executions.get(message.execution_id)
            if execution is not None and execution.state.active:
                await self._fail_execution(
                    record, execution, message.reason, retry=True
                )
        elif isinstance(message, StopRequested):
            await self._on_stop(record, message)
        elif isinstance(message, NodesChanged):
            self._forget_transient(record)
        elif isinstance(message, Superseded):
            record.superseded_by = message.version

    async def _on_timer(self, record: JobRecord) -> None:
        total = record.job.task.Timeouts.TotalTimeout
        if total and now_ns() - record.job.CreateTime >= total * 1e9:
            record.set_state(J.Failed, f"job timed out after {total} s (TotalTimeout)")
            await self._commit(record)
            return
        for execution in record.active():
            if record.terminal or not execution.state.active:
                continue
            reason = self._why_lost(record, execution)
            if reason:
                self.expired_executions += 1
                # placed again, but not on the node that went quiet on it
                await self._fail_execution(
                    record, execution, reason, retry=True, avoid_node=True
                )
        self._forget_transient(record)

    def _why_lost(self, record: JobRecord, execution: Execution) -> str:
        """Why an active execution is to be given up on, if it is."""
        node = short_node_id(execution.NodeID)
        # a node not heard of yet (this requester just restarted) is not
        # lost: its lease, below, decides if it stays silent
        if self.nodes.is_lost(execution.NodeID):
            return f"node {node} is not reachable"
        if execution.state < E.BidAccepted:
            return ""
        now = trio.current_time()
        named = record.alive_at.setdefault(execution.ID, now)
        silent = now - named
        if silent > self.config.execution_lease_timeout:
            return (
                f"node {node} stopped reporting this execution "
                f"(not named for {silent:.0f} s)"
            )
        limit = self._longest_run(record.job)
        if limit is not None and now_ns() - execution.CreateTime > limit * 1e9:
            return f"node {node} did not finish it within {limit:.0f} s"
        return ""

    def _longest_run(self, job: Job) -> float | None:
        """How long an execution may take, queue and grace included, before
        the requester gives up on its node (which should have ended it)."""
        if job.long_running:
            return None
        timeouts = job.task.Timeouts
        run = timeouts.ExecutionTimeout or self.config.default_execution_timeout
        queue = timeouts.QueueTimeout or self.config.queue_timeout
        return run + queue + RUN_GRACE

    async def _on_alive(self, peer: str, request: ExecutionsAlive) -> LeaseAnswer:
        """A compute node names the executions of ours it holds: renew their
        leases; tell it which have ended here, so it stops them."""
        if not self._recovered:
            raise HandlerError("unavailable", "this node is resuming its jobs")
        self.nodes.observe_alive(peer)
        now = trio.current_time()
        ended = []
        for execution_id in request.ExecutionIDs:
            record = self._records.get(self._execution_jobs.get(execution_id, ""))
            execution = record.executions.get(execution_id) if record else None
            if record is None or execution is None or not execution.state.active:
                ended.append(execution_id)
            elif execution.NodeID == peer:
                record.alive_at[execution_id] = now
        return LeaseAnswer(Ended=ended)

    def _forget_transient(self, record: JobRecord) -> None:
        record.declined = {n: d for n, d in record.declined.items() if not d.transient}

    # -- placement -------------------------------------------------------

    async def _place(self, record: JobRecord, calls: trio.Nursery) -> None:
        if record.terminal:
            return
        outcome = record.outcome()
        if outcome is not None:
            record.set_state(*outcome)
            await self._commit(record)
            return
        busy = {e.NodeID for e in record.live()}
        if record.job.Type == "ops":
            busy |= {
                e.NodeID for e in record.executions.values() if e.state == E.Completed
            }
        ranking = rank_nodes(
            self._requirements(record.job),
            self.nodes.views(),
            exclude=busy | set(record.declined),
        )
        wanted = (
            len(ranking.candidates)
            if record.job.runs_everywhere
            else record.slots_wanted()
        )
        if wanted == 0:
            return
        # a node that declined (busy, say) did not try: only attempts count;
        # declines are bounded by the queue timeout instead
        attempts = sum(
            1 for e in record.executions.values() if e.state != E.AskForBidRejected
        )
        if not record.job.runs_everywhere and attempts >= MAX_ATTEMPTS_PER_SLOT * max(
            record.job.Count, 1
        ):
            record.set_state(
                J.Failed,
                f"gave up after {attempts} executions failed: "
                + self._explain(record, ranking),
            )
            await self._commit(record)
            return
        chosen = ranking.candidates[:wanted]
        if not chosen:
            if not record.live():
                await self._unplaceable(record, ranking)
            return
        record.queued_since = None
        evaluation = new_evaluation_id()
        need = self._requirements(record.job)
        executions = [
            record.new_execution(node.node_id, evaluation, _why(node, need))
            for node in chosen
        ]
        for execution in executions:
            self._execution_jobs[execution.ID] = record.job.ID
        await self._commit(record)
        for execution in executions:
            calls.start_soon(self._ask_bid, record.job, execution)

    def _requirements(self, job: Job) -> Requirements:
        return Requirements.of(job, job.task.Resources.parsed(Resources()))

    async def _unplaceable(self, record: JobRecord, ranking: Ranking) -> None:
        reason = self._explain(record, ranking)
        now = trio.current_time()
        transient = (
            not ranking.considered
            or "disconnected" in ranking.refusals
            or any(d.transient for d in record.declined.values())
        )
        limit = record.job.task.Timeouts.QueueTimeout or (
            self.config.queue_timeout if transient else 0
        )
        if record.queued_since is None:
            record.queued_since = now
        waited = now - record.queued_since
        if waited < limit:
            if record.state != J.Queued:
                record.set_state(J.Queued, reason, event=f"Job queued. {reason}")
                await self._commit(record)
            await self._open_call(record.job)
            return
        if waited > 0.5:
            reason += f" after waiting {waited:.0f} s in the queue"
        record.set_state(J.Failed, reason)
        await self._commit(record)

    async def _open_call(self, job: Job) -> None:
        """Ask the whole network who can run `job`, beyond the nodes we know."""
        now = trio.current_time()
        if now - self._open_calls.get(job.ID, -math.inf) < OPEN_CALL_EVERY:
            return
        # One call on the bids topic reaches every node; with thousands of
        # jobs queued, one per job would flood the network for nothing new.
        if now - self._last_open_call < OPEN_CALL_GAP:
            return
        self._last_open_call = now
        self._open_calls[job.ID] = now
        try:
            await self.gossip.publish(BIDS, BidCall(RequesterID=self.node_id, Job=job))
        except Exception:
            log.debug("open call for %s not published", job.ID, exc_info=True)

    def _explain(self, record: JobRecord, ranking: Ranking) -> str:
        refusals = ranking.refusals.copy()
        refusals.pop("already tried", None)
        for declined in record.declined.values():
            refusals[f"declined: {declined.reason}"] += 1
        return Ranking([], refusals, ranking.considered).explain()

    async def _ask_bid(self, job: Job, execution: Execution) -> None:
        request = AskBid(
            Execution=execution.model_copy(update={"Job": job}),
            RequesterID=self.node_id,
        )
        for ask in range(1, BID_ASKS + 1):
            try:
                bid = await self.rpc.call(
                    execution.NodeID, ASK_BID, request, timeout=self.config.bid_timeout
                )
                break
            except P2PError as exc:
                # A slow or unreachable node is not a refusal, and it may have
                # had the ask and be running the job already (a requester that
                # restarts asks again before its connections are back):
                # failing this execution would place the job again, to run
                # twice, and spend one of its attempts. Asking again is
                # idempotent; a considered answer, or the node's loss, ends it.
                if (
                    (isinstance(exc, RemoteError) and exc.code != "unavailable")
                    or ask == BID_ASKS
                    or self.nodes.is_lost(execution.NodeID)
                ):
                    self._post(job.ID, BidAnswered(execution.ID, None, str(exc)))
                    return
            await trio.sleep(min(BID_ASK_BACKOFF * 2 ** (ask - 1), 4.0))
        self.nodes.observe_alive(execution.NodeID)
        self._post(job.ID, BidAnswered(execution.ID, bid))

    async def _on_bid(
        self, record: JobRecord, answer: BidAnswered, calls: trio.Nursery
    ) -> None:
        execution = record.executions.get(answer.execution_id)
        if execution is None or execution.state != E.AskForBid:
            return
        if answer.bid is None:
            record.declined[execution.NodeID] = Declined("unreachable", transient=True)
            record.move(
                execution, E.Failed, f"could not ask node for a bid: {answer.error}"
            )
            await self._commit(record)
            return
        if not answer.bid.Accepted:
            busy = answer.bid.Reason.startswith("busy")
            record.declined[execution.NodeID] = Declined(
                answer.bid.Reason, transient=busy
            )
            record.move(execution, E.AskForBidRejected, answer.bid.Reason)
            await self._commit(record)
            return
        # asks go only to the nodes the job needs, so an accepted bid is
        # also the go-ahead: the node has already started (or queued) it
        record.move(execution, E.AskForBidAccepted)
        record.move(execution, E.BidAccepted, desired=ExecutionDesiredStateType.Running)
        record.alive_at[execution.ID] = trio.current_time()
        if record.state in (J.Pending, J.Queued):
            record.set_state(J.Running)
        await self._commit(record)

    def _resume_in_flight(self, record: JobRecord, calls: trio.Nursery) -> None:
        """After a restart: ask again where the answer may have been lost
        (asking is idempotent: a node answers a repeated ask as it did)."""
        for execution in record.active():
            if execution.state == E.AskForBid:
                calls.start_soon(self._ask_bid, record.job, execution)

    # -- execution updates ----------------------------------------------

    async def _on_update(self, record: JobRecord, update: ExecutionUpdate) -> str:
        """Apply `update`; returns "" once it is stored, or why it is refused."""
        execution = record.executions.get(update.ExecutionID)
        if execution is None:
            return f"unknown execution {update.ExecutionID}"
        if execution.NodeID != update.NodeID:
            return f"execution {update.ExecutionID} was not given to you"
        record.alive_at[execution.ID] = trio.current_time()
        if not is_forward(execution.state, update.State):
            return ""  # old news: it is already recorded
        if update.State == E.Completed and record.job.long_running:
            await self._fail_execution(
                record, execution, "execution completed unexpectedly", retry=True
            )
            return ""
        if update.State == E.Failed:
            retry = update.Details.get("Retryable") == "true"
            await self._fail_execution(
                record, execution, update.Message, retry=retry, details=update.Details
            )
            return ""
        if update.State == E.Completed and execution.state < E.Running:
            # the node's Running report was folded into this one
            record.move(execution, E.Running)
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
        await self._commit(record)
        return ""

    async def _fail_on_node(self, record: JobRecord, node_id: str, reason: str) -> None:
        for execution in record.active():
            if execution.NodeID == node_id:
                await self._fail_execution(record, execution, reason, retry=True)

    async def _fail_execution(
        self,
        record: JobRecord,
        execution: Execution,
        reason: str,
        *,
        retry: bool,
        details: dict[str, str] | None = None,
        avoid_node: bool = False,
    ) -> None:
        record.move(execution, E.Failed, reason, details=details)
        transient = retry and not avoid_node
        record.declined[execution.NodeID] = Declined(reason, transient=transient)
        if not retry and not record.job.runs_everywhere:
            record.set_state(
                J.Failed,
                f"execution on node {short_node_id(execution.NodeID)} failed: {reason}",
            )
        await self._commit(record)

    async def _on_stop(self, record: JobRecord, request: StopRequested) -> None:
        record.set_state(
            J.Stopped, request.reason, event="Job requested to stop before completion"
        )
        await self._commit(record)
        request.result.append(new_evaluation_id())

    async def _finish(self, record: JobRecord) -> None:
        """The job has ended: cancel the executions it no longer needs."""
        reason = record.ending()
        leftovers = record.active()
        for execution in leftovers:
            record.move(execution, E.Cancelled, reason)
        await self._commit(record)
        assert self._nursery is not None
        for execution in leftovers:
            self._nursery.start_soon(self._send_cancel, execution, reason)

    async def _send_cancel(self, execution: Execution, reason: str) -> None:
        request = CancelExecution(
            ExecutionID=execution.ID, JobID=execution.JobID, Reason=reason
        )
        try:
            await self.rpc.call_with_retry(
                execution.NodeID, CANCEL, request, timeout=5, attempts=5
            )
        except P2PError as exc:
            log.info(
                "could not cancel %s on %s: %s", execution.ID, execution.NodeID, exc
            )

    # -- persistence -----------------------------------------------------

    async def _commit(self, record: JobRecord, *, retry: bool = True) -> None:
        """Persist what changed in `record`. While the disk refuses writes,
        retry (the job's loop waits; nothing it acknowledged is lost) or,
        with `retry=False`, raise `StorageUnavailable`."""
        change = record.take_change()
        if change.job is None:
            return
        delay = STORE_RETRY
        while True:
            try:
                await self.store.apply(change)
                break
            except StorageUnavailable as exc:
                if self.storage_problem != exc.message:
                    log.error("%s; retrying until it succeeds", exc.message)
                self.storage_problem = exc.message
                if not retry:
                    raise
            await trio.sleep(delay)
            delay = min(delay * 2, STORE_RETRY_MAX)
        if self.storage_problem:
            log.warning("the job store accepts writes again")
            self.storage_problem = ""
        self._on_change(record)


def _why(node: NodeView, need: Requirements) -> str:
    """Why this node was chosen, when it is more than its free capacity."""
    held = held_inputs(node, need)
    if not held:
        return ""
    return "it holds the input " + ", ".join(f"ipfs://{cid}" for cid in held)


def _release_waiters(box: _Mailbox) -> None:
    """Wake whoever waits on a message the finished job will never handle."""
    while True:
        try:
            _message, done = box.receive.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
            return
        if done is not None:
            done.set()
