"""The compute side of a node: bid, run, publish, report.

Requesters ask this node to bid (`ask-bid`); the bidder decides, and an
accepted bid holds resources (or a queue slot) and is recorded. When the
requester confirms (`bid-result`), the execution runs as soon as its
resources are held: inputs are staged, the executor runs the task into the
execution's results folder, the publisher publishes it, and every state
change goes back to the requester through the persisted outbox.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio

from ..dataplane import DataPlane
from ..executors.base import Executor
from ..executors.exceptions import ExecutorError
from ..matching import Offer
from ..models.execution import Execution, RunCommandResult
from ..models.ids import is_execution_id
from ..models.job import SpecConfig
from ..models.node import NodeInfo
from ..models.resources import Resources
from ..models.states import ExecutionStateType
from ..models.wire import (
    Ack,
    AskBid,
    Bid,
    CancelExecution,
    ExecutionUpdate,
    LogChunk,
    LogsRequest,
    OpenCall,
    OpenCallAnswer,
)
from ..p2p.exceptions import P2PError
from ..p2p.interfaces import Calls, Subscriptions
from ..p2p.rpc import HandlerError
from ..protocol import ASK_BID, CANCEL, LOGS, OPEN_CALL_ANSWER, OPEN_CALLS
from ..publishers.exceptions import PublishError
from ..storage.exceptions import StorageError
from .bidder import decide
from .capacity import Capacity
from .exceptions import ComputeStoreUnavailable
from .executions import LocalExecutions
from .leases import LeaseKeeper
from .logs import read_logs
from .runner import run_execution
from .settings import ComputeSettings
from .updates import UpdateSender

log = logging.getLogger(__name__)
E = ExecutionStateType

# a phase (Running, Publishing) is reported only if it lasts this long: a
# short one is folded into the next report, saving a round trip
PHASE_REPORT_DELAY = 0.05
REMEMBERED_ANSWERS = 10_000
DEFAULT_NEED = Resources(CPU=0.1, Memory=64 * 1024**2)


@dataclass
class _Phase:
    """The pending report of the phase an execution is in."""

    report: trio.CancelScope


@dataclass
class _Local:
    """An execution this node bid on, while it is not finished."""

    execution: Execution
    requester: str
    need: Resources
    started: bool = False
    cancel: trio.CancelScope = field(default_factory=trio.CancelScope)
    done: trio.Event = field(default_factory=trio.Event)
    cancel_reason: str = ""


class Compute:
    """Runs other people's tasks on this node, within its capacity."""

    def __init__(
        self,
        node_id: str,
        settings: ComputeSettings,
        calls: Calls,
        executors: dict[str, Executor],
        store: LocalExecutions,
        capacity: Capacity,
        *,
        on_capacity_change: Callable[[], None],
        node_info: Callable[[], NodeInfo],
        gossip: Subscriptions,
        data: DataPlane,
    ) -> None:
        self.node_id = node_id
        self.settings = settings
        self.calls = calls
        self.gossip = gossip
        self._node_info = node_info
        self.executors = executors
        self.store = store
        self.capacity = capacity
        self.sender = UpdateSender(store, calls)
        self._on_capacity_change = on_capacity_change
        self._local: dict[str, _Local] = {}
        # recent answers, so a repeated ask gets the same one (bounded)
        self._answers: OrderedDict[str, Bid] = OrderedDict()
        self._results_root = settings.repo / "executions"
        self.refused_asks = 0  # requests refused for who sent them
        self._nursery: trio.Nursery | None = None
        self.data = data
        self.offer = Offer(
            engines=frozenset(executors),
            storage=frozenset(data.sources.types),
            publishers=frozenset(data.publishers.types),
            networks=settings.network_modes,
            labels=settings.labels,
        )
        self.leases = LeaseKeeper(
            calls,
            settings.execution_lease_interval,
            held=lambda: [(i, local.requester) for i, local in self._local.items()],
            cancel=self._cancel_ended,
        )

    @property
    def running_count(self) -> int:
        return sum(1 for local in self._local.values() if local.started)

    def results_dir(self, execution_id: str) -> Path:
        """The results folder of an execution; `ValueError` for an ID that
        is not an execution ID (never a path outside the results root)."""
        if not is_execution_id(execution_id):
            raise ValueError(f"{execution_id!r} is not an execution ID")
        return self._results_root / execution_id

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        try:
            await self._serve(task_status)
        finally:
            with trio.CancelScope(shield=True):
                for executor in self.executors.values():
                    await executor.aclose()

    async def _serve(self, task_status: trio.TaskStatus[None]) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self.calls.register(ASK_BID, self._on_ask_bid)
            self.calls.register(CANCEL, self._on_cancel)
            self.calls.register_stream(LOGS, self._on_logs)
            await nursery.start(self.sender.run)
            await nursery.start(self.gossip.serve, OPEN_CALLS, self._on_open_call)
            nursery.start_soon(self.leases.run)
            await self._report_interrupted()
            for executor in self.executors.values():
                await executor.cleanup()
            task_status.started()
            await trio.sleep_forever()

    async def _report_interrupted(self) -> None:
        """Executions cut short by a restart are reported failed (retryable)."""
        for execution, requester in await self.store.unfinished():
            await self._report(
                execution,
                requester,
                E.Failed,
                "the compute node restarted while this execution was in progress",
                details={"Retryable": "true"},
            )

    # -- bidding ---------------------------------------------------------

    def _on_open_call(self, sender: str, call: OpenCall) -> None:
        """An open call for bids: answer it if this node would bid."""
        job = call.Job
        need = job.task.Resources.parsed(DEFAULT_NEED)
        executor = self.executors.get(job.task.Engine.Type.lower())
        refusal = executor.refuse(job) if executor is not None else None
        snapshot = self.capacity.snapshot()
        if decide(job, need, self.offer, snapshot, refusal, self.data).accept:
            assert self._nursery is not None
            self._nursery.start_soon(self._answer_call, call)

    async def _answer_call(self, call: OpenCall) -> None:
        answer = OpenCallAnswer(JobID=call.Job.ID, Info=self._node_info())
        try:
            await self.calls.call(call.RequesterID, OPEN_CALL_ANSWER, answer, timeout=5)
        except P2PError as exc:
            log.debug("could not answer the open call for %s: %s", call.Job.ID, exc)

    async def _on_ask_bid(self, peer: str, request: AskBid) -> Bid:
        if self._nursery is None:  # the requester asks again
            raise HandlerError("unavailable", "this compute node is still starting")
        execution = request.Execution
        refusal = self._ask_refusal(peer, request)
        if refusal is not None:
            self.refused_asks += 1
            raise HandlerError("forbidden", refusal)
        if execution.ID in self._answers:
            return self._answers[execution.ID]
        if execution.Job is None or execution.NodeID != self.node_id:
            raise HandlerError(
                "bad_request", "ask-bid needs the job, addressed to this node"
            )
        job = execution.Job
        need = job.task.Resources.parsed(DEFAULT_NEED)
        executor = self.executors.get(job.task.Engine.Type.lower())
        refusal = executor.refuse(job) if executor is not None else None
        snapshot = self.capacity.snapshot()
        decision = decide(job, need, self.offer, snapshot, refusal, self.data)
        bid = Bid(
            ExecutionID=execution.ID,
            Accepted=decision.accept,
            Reason=decision.reason,
            NodeID=self.node_id,
        )
        self._answers[execution.ID] = bid
        if len(self._answers) > REMEMBERED_ANSWERS:
            self._answers.popitem(last=False)
        if decision.accept:
            # an accepted bid is the go-ahead: run now, or queue for capacity
            local = _Local(execution, peer, need)
            execution.ComputeState.StateType = E.BidAccepted
            try:
                await self.store.put(execution, local.requester)
            except ComputeStoreUnavailable as exc:
                bid = bid.model_copy(
                    update={"Accepted": False, "Reason": f"busy: {exc}"}
                )
                self._answers[execution.ID] = bid
                return bid
            self._local[execution.ID] = local
            if self.capacity.hold_or_queue(execution.ID, need):
                self._start(local)
            self._on_capacity_change()
        return bid

    def _ask_refusal(self, peer: str, request: AskBid) -> str | None:
        """Why this node takes no work from `peer` for `request`, if so."""
        allowed = self.settings.allowed_requesters
        if allowed and peer not in allowed:
            return "this compute node takes work only from its allowed requesters"
        if request.RequesterID and request.RequesterID != peer:
            return "a requester asks for bids only in its own name"
        if not is_execution_id(request.Execution.ID):
            return f"{request.Execution.ID!r} is not an execution ID"
        return None

    async def _on_cancel(self, peer: str, request: CancelExecution) -> Ack:
        local = self._local.get(request.ExecutionID)
        if local is None:
            return Ack()
        if local.requester != peer:
            self.refused_asks += 1
            raise HandlerError("forbidden", "only its requester cancels an execution")
        if local.started:
            local.cancel_reason = request.Reason or "cancelled by the requester"
            local.cancel.cancel()
            with trio.move_on_after(5):
                await local.done.wait()
        else:
            await self._forget(request.ExecutionID, E.Cancelled)
        return Ack()

    async def _forget(self, execution_id: str, state: ExecutionStateType) -> None:
        self._local.pop(execution_id, None)
        self._release(execution_id)
        try:
            await self.store.set_state(execution_id, state)
        except ComputeStoreUnavailable as exc:
            # it is only reported unfinished (and failed) after a restart
            log.warning("state of %s not recorded: %s", execution_id, exc)

    def _release(self, execution_id: str) -> None:
        for started in self.capacity.release(execution_id):
            local = self._local.get(started)
            if local is not None:
                self._start(local)
        self._on_capacity_change()

    # -- logs ------------------------------------------------------------

    async def _on_logs(
        self, peer: str, request: LogsRequest
    ) -> AsyncIterator[LogChunk]:
        """Output lines of an execution this node was given, and only that:
        the ID must be an execution ID and known here (never a path)."""
        execution_id = request.ExecutionID
        if not is_execution_id(execution_id):
            self.refused_asks += 1
            log.debug("logs of %r asked by %s: not an execution ID", execution_id, peer)
            raise HandlerError("not_found", f"{execution_id!r} is not an execution ID")
        if not await self.holds(execution_id):
            raise HandlerError("not_found", f"no output of {execution_id} here")
        folder = self.results_dir(execution_id)
        if not await trio.to_thread.run_sync(folder.exists):
            raise HandlerError("not_found", f"no output of {execution_id} here")
        lines = read_logs(
            folder,
            follow=request.Follow,
            tail=request.Tail,
            finished=lambda: request.ExecutionID not in self._local,
        )
        async for line in lines:
            yield line

    async def holds(self, execution_id: str) -> bool:
        """Whether this node was given `execution_id` (running or recorded)."""
        if execution_id in self._local:
            return True
        return await self.store.requester_of(execution_id) is not None

    async def _cancel_ended(self, execution_id: str, requester: str) -> None:
        """The requester says it has ended `execution_id`: stop it here."""
        local = self._local.get(execution_id)
        if local is not None and local.requester == requester:
            reason = "the requester has ended it"
            request = CancelExecution(
                ExecutionID=execution_id, JobID=local.execution.JobID, Reason=reason
            )
            await self._on_cancel(requester, request)

    # -- running ---------------------------------------------------------

    def _start(self, local: _Local) -> None:
        if local.started:
            return
        local.started = True
        assert self._nursery is not None
        self._nursery.start_soon(self._execute, local)

    async def _execute(self, local: _Local) -> None:
        execution = local.execution
        try:
            with local.cancel:
                phase = _Phase(trio.CancelScope())
                result, published = await self._run(local, phase)
                phase.report.cancel()
                await self._report(
                    execution,
                    local.requester,
                    E.Completed,
                    run_output=result,
                    published=published,
                )
            if local.cancel.cancelled_caught:
                await self._report(
                    execution, local.requester, E.Cancelled, local.cancel_reason
                )
        except (ExecutorError, StorageError, PublishError) as exc:
            await self._report(execution, local.requester, E.Failed, str(exc))
        except Exception as exc:
            log.exception("execution %s failed unexpectedly", execution.ID)
            await self._report(
                execution, local.requester, E.Failed, f"internal error: {exc!r}"
            )
        finally:
            self._local.pop(execution.ID, None)
            local.done.set()
            self._release(execution.ID)

    def _report_soon(self, local: _Local, phase: _Phase, state: E) -> None:
        """Report `state` unless the next phase comes first: a short task is
        then reported once, as Completed (the requester records the rest)."""
        phase.report.cancel()
        phase.report = trio.CancelScope()
        assert self._nursery is not None
        self._nursery.start_soon(self._report_later, local, phase.report, state)

    async def _report_later(
        self, local: _Local, scope: trio.CancelScope, state: E
    ) -> None:
        with scope:
            await trio.sleep(PHASE_REPORT_DELAY)
        if not scope.cancelled_caught and not local.done.is_set():
            await self._report(local.execution, local.requester, state)

    async def _run(
        self, local: _Local, phase: _Phase
    ) -> tuple[RunCommandResult, SpecConfig]:
        return await run_execution(
            local.execution,
            local.need,
            executors=self.executors,
            data=self.data,
            settings=self.settings,
            node_id=self.node_id,
            on_staged=lambda: self._report_soon(local, phase, E.Running),
            on_publishing=lambda: self._report_soon(local, phase, E.Publishing),
        )

    async def _report(
        self,
        execution: Execution,
        requester: str,
        state: ExecutionStateType,
        message: str = "",
        *,
        run_output: RunCommandResult | None = None,
        published: SpecConfig | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        update = ExecutionUpdate(
            ExecutionID=execution.ID,
            JobID=execution.JobID,
            NodeID=self.node_id,
            State=state,
            Message=message,
            RunOutput=run_output,
            PublishedResult=published,
            Details=details or {},
        )
        with trio.CancelScope(shield=True):
            await self.sender.send(requester, update)
