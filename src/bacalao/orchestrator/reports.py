"""What compute nodes tell a requester: execution updates, leases, open-call answers.

Each handler checks the sender speaks only for itself, then hands the
report to the job's task (`Inboxes`) and answers once it is handled. An
update is acknowledged only when stored; while this node cannot store it
(still resuming its jobs, a job's task restarting, a full disk) the call is
refused as unavailable and the sender keeps it and tries again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from ..models.wire import (
    Ack,
    ExecutionsAlive,
    ExecutionUpdate,
    ExecutionUpdates,
    LeaseAnswer,
    OpenCallAnswer,
    UpdatesAnswer,
)
from ..p2p.rpc import HandlerError
from .inbox import NodesChanged, Updated

if TYPE_CHECKING:
    from .service import Orchestrator


class Reports:
    """The orchestrator's RPC handlers for compute nodes' reports."""

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.o = orchestrator

    def _check_ready(self) -> None:
        if not self.o.recovered:
            raise HandlerError("unavailable", "this node is resuming its jobs")

    async def on_updates(self, peer: str, batch: ExecutionUpdates) -> UpdatesAnswer:
        """Each update is answered once stored against its execution (the
        jobs' tasks handle them side by side, in a few group commits) or
        refused with a reason."""
        if any(update.NodeID != peer for update in batch.Updates):
            raise HandlerError("bad_request", "an update must come from its own node")
        self._check_ready()
        self.o.nodes.observe_alive(peer)
        outcomes: dict[str, str | None] = {}
        async with trio.open_nursery() as nursery:
            for update in batch.Updates:
                nursery.start_soon(self._take, update, outcomes)
        if any(reason is None for reason in outcomes.values()):
            problem = self.o.committer.storage_problem
            raise HandlerError("unavailable", problem or "the job is not ready yet")
        return UpdatesAnswer(
            Refused={k: reason for k, reason in outcomes.items() if reason}
        )

    async def _take(
        self, update: ExecutionUpdate, outcomes: dict[str, str | None]
    ) -> None:
        """Record in `outcomes` "" (stored), a refusal, or None (try later)."""
        message = Updated(update)
        await self.o.inboxes.deliver(update.JobID, message, wait=True)
        if message.handled:
            outcomes[update.ExecutionID] = message.refused
            return
        outcomes[update.ExecutionID] = await self._of_inactive_job(update)

    async def _of_inactive_job(self, update: ExecutionUpdate) -> str | None:
        """An update for a job with no task here: ended, unknown or not ours."""
        store = self.o.store
        owner = await store.requester_of(update.JobID)
        if owner is None:
            return f"unknown job {update.JobID}"
        if owner != self.o.node_id:
            return f"job {update.JobID} is not owned by this node"
        job = await store.get_job(update.JobID)
        if job is None or not job.State.StateType.terminal:
            return None  # its task is (re)starting: try again
        for execution in await store.executions(update.JobID):
            if update.ExecutionID == execution.ID:
                if execution.NodeID != update.NodeID:
                    return f"execution {update.ExecutionID} was not given to you"
                return ""  # the job has ended; nothing left to record
        return f"unknown execution {update.ExecutionID}"

    async def on_alive(self, peer: str, request: ExecutionsAlive) -> LeaseAnswer:
        """A compute node names the executions of ours it holds: renew their
        leases; tell it which have ended here, so it stops them."""
        self._check_ready()
        self.o.nodes.observe_alive(peer)
        now = trio.current_time()
        ended = []
        for execution_id in request.ExecutionIDs:
            execution = self.o.active.execution(execution_id)
            if execution is None or not execution.state.active:
                ended.append(execution_id)
            elif execution.NodeID == peer:
                self.o.active.alive(execution_id, now)
        return LeaseAnswer(Ended=ended)

    async def on_open_call_answer(self, peer: str, answer: OpenCallAnswer) -> Ack:
        """A node answered an open call: add it to the view, the job retries."""
        if answer.Info.NodeID != peer:
            raise HandlerError("bad_request", "an open bid must come from its own node")
        self.o.nodes.observe_info(answer.Info)
        self.o.inboxes.post(answer.JobID, NodesChanged())
        return Ack()
