"""A requester acknowledges an execution update only once it has stored it.

Compute nodes drop an update from their outbox when the requester acks it,
so an ack for an update that was not stored loses it for good: the job
then sits Running forever. These tests hold the requester to its answers:
stored, refused with a reason (per update), or "unavailable" (try again).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from bacalao.compute.executions import LocalExecutions
from bacalao.compute.updates import UpdateSender
from bacalao.models.execution import Execution, RunCommandResult
from bacalao.models.ids import new_execution_id
from bacalao.models.states import ExecutionStateType, JobStateType, State
from bacalao.models.wire import ExecutionUpdate, JobSnapshot
from bacalao.p2p.exceptions import RemoteError
from bacalao.p2p.rpc import HandlerError, Method

from .requester import WAIT, build_requester, running
from .support import make_job

E = ExecutionStateType
J = JobStateType


async def test_update_arriving_while_the_requester_resumes_is_kept_for_later(
    tmp_path: Path,
) -> None:
    """After a restart, an update that comes before the job's task is back
    must not be acked: it is refused as unavailable, and stored when resent."""
    db = tmp_path / "jobs.db"
    async with running(build_requester(db, {"n-a": 4.0})) as first:
        job_id = await first.submit()
        execution = await first.wait_for_execution(job_id, "n-a")

    again = build_requester(db, {"n-a": 4.0})
    with pytest.raises(HandlerError) as refused:
        await again.report("n-a", execution, E.Completed)
    assert refused.value.code == "unavailable"

    async with running(again):
        done = RunCommandResult(Stdout="across the restart")
        answer = await again.report("n-a", execution, E.Completed, RunOutput=done)
        assert answer.Refused == {}
        job = await again.wait_for_state(job_id, J.Completed, J.Failed)
        assert job.State.StateType == J.Completed
        [stored] = await again.executions(job_id)
        assert stored.RunOutput is not None
        assert stored.RunOutput.Stdout == "across the restart"


async def test_update_about_a_job_the_requester_never_had_is_refused(
    tmp_path: Path,
) -> None:
    async with running(build_requester(tmp_path / "jobs.db")) as requester:
        stranger = Execution(
            ID=new_execution_id(), JobID="j-never-submitted", NodeID="n-a"
        )
        answer = await requester.report("n-a", stranger, E.Completed)
    assert list(answer.Refused) == [stranger.ID]
    assert "unknown job" in answer.Refused[stranger.ID]


async def test_update_about_an_execution_the_job_does_not_have_is_refused(
    tmp_path: Path,
) -> None:
    async with running(build_requester(tmp_path / "jobs.db", {"n-a": 4.0})) as req:
        job_id = await req.submit()
        await req.wait_for_execution(job_id, "n-a")
        invented = Execution(ID=new_execution_id(), JobID=job_id, NodeID="n-a")
        answer = await req.report("n-a", invented, E.Completed)
        assert "unknown execution" in answer.Refused[invented.ID]
        assert (await req.job(job_id)).State.StateType == J.Running


async def test_update_from_a_node_the_execution_was_not_given_to_changes_nothing(
    tmp_path: Path,
) -> None:
    nodes = {"n-a": 4.0, "n-b": 1.0}  # n-b has less room: n-a is asked
    async with running(build_requester(tmp_path / "jobs.db", nodes)) as req:
        job_id = await req.submit()
        execution = await req.wait_for_execution(job_id, "n-a")

        answer = await req.report("n-b", execution, E.Completed)
        assert "not given to you" in answer.Refused[execution.ID]
        assert (await req.job(job_id)).State.StateType == J.Running
        [stored] = await req.executions(job_id)
        assert stored.state == E.BidAccepted

        answer = await req.report("n-a", execution, E.Completed)
        assert answer.Refused == {}
        await req.wait_for_state(job_id, J.Completed)


async def test_update_about_a_job_that_has_ended_is_acked_so_the_node_stops_sending(
    tmp_path: Path,
) -> None:
    """A resent report of a finished job is not an error: answering
    "unavailable" would make its compute node resend it forever."""
    async with running(build_requester(tmp_path / "jobs.db", {"n-a": 4.0})) as req:
        job_id = await req.submit()
        execution = await req.wait_for_execution(job_id, "n-a")
        await req.report("n-a", execution, E.Completed)
        await req.wait_for_state(job_id, J.Completed)
        with trio.fail_after(WAIT):
            while req.orchestrator.owns(job_id):  # its task has ended
                await trio.sleep(0.01)

        again = await req.report("n-a", execution, E.Completed)
        assert again.Refused == {}
        impostor = await req.report("n-b", execution, E.Failed)
        assert "not given to you" in impostor.Refused[execution.ID]


class ResumingRequester:
    """A requester that answers "unavailable" to the first `refusals` calls,
    then stores everything; notes how many updates the outbox held at each."""

    def __init__(self, outbox: LocalExecutions, refusals: int) -> None:
        self.outbox = outbox
        self.refusals = refusals
        self.calls: list[list[str]] = []
        self.outbox_sizes: list[int] = []

    async def call_with_retry(
        self, _peer: str, method: Method[Any, Any], request: Any, **_: Any
    ) -> Any:
        self.calls.append([u.ExecutionID for u in request.Updates])
        self.outbox_sizes.append(len(await self.outbox.pending()))
        if len(self.calls) <= self.refusals:
            raise RemoteError("unavailable", "this node is resuming its jobs")
        return method.response()


async def test_compute_node_keeps_an_update_until_the_requester_can_store_it(
    tmp_path: Path,
) -> None:
    outbox = LocalExecutions(tmp_path / "compute.db")
    requester = ResumingRequester(outbox, refusals=2)
    sender = UpdateSender(outbox, requester)  # type: ignore[arg-type]
    update = ExecutionUpdate(
        ExecutionID="e-1", JobID="j-1", NodeID="n-a", State=E.Completed
    )
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(sender.run)
            await sender.send("n-requester", update)
            with trio.fail_after(WAIT):
                while len(requester.calls) < 3 or await outbox.pending():
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    finally:
        outbox.close()
    assert requester.calls == [["e-1"]] * 3
    assert requester.outbox_sizes == [1, 1, 1]  # kept while refused


async def test_update_about_a_job_another_requester_owns_is_refused(
    tmp_path: Path,
) -> None:
    """This node only holds a replica of it: "unavailable" would have the
    sender retry here forever, an ack would lose the update."""
    async with running(build_requester(tmp_path / "jobs.db")) as req:
        theirs = make_job("noop", ID="j-theirs", Revision=1, CreateTime=1)
        theirs.State = State[JobStateType](StateType=J.Running)
        execution = Execution(ID=new_execution_id(), JobID="j-theirs", NodeID="n-a")
        replica = JobSnapshot(RequesterID="n-other", Job=theirs, Executions=[execution])
        assert await req.store.put_snapshots([replica]) == ["j-theirs"]

        answer = await req.report("n-a", execution, E.Completed)
        assert "not owned by this node" in answer.Refused[execution.ID]
