"""Executions are leased: a node that stops naming one loses it.

A compute node may be alive (it answers pings, it beats) and still never
report an execution again: it crashed halfway, lost it, or lies. Its
requester hears from it which executions it holds (`EXECUTIONS_ALIVE`,
every lease interval); one not named for `execution_lease_timeout` is
failed and placed again, and a renewal for an execution that has ended is
answered with its ID so the node stops it. Time is trio's MockClock
(running at real speed, so waits stay bounded), jumped past the lease.
"""

from __future__ import annotations

from pathlib import Path

import trio
import trio.testing

from bacalao.models.ids import new_execution_id
from bacalao.models.states import ExecutionStateType, JobStateType
from bacalao.models.wire import ExecutionsAlive
from bacalao.protocol import EXECUTIONS_ALIVE

from .requester import Requester, build_requester, running

E = ExecutionStateType
J = JobStateType
# the black hole has more room, so it is asked first
NODES = {"n-hole": 4.0, "n-good": 1.0}


def lease(req: Requester) -> float:
    return req.orchestrator.settings.scheduler.execution_lease_timeout


async def name(req: Requester, node: str, *execution_ids: str) -> list[str]:
    """`node` renews its lease on `execution_ids`; returns those that ended."""
    answer = await req.rpc.handle(
        node, EXECUTIONS_ALIVE, ExecutionsAlive(ExecutionIDs=list(execution_ids))
    )
    return list(answer.Ended)


async def test_an_execution_its_node_stops_naming_is_placed_again(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    """On another node: the silent one would take it again and stay silent
    (a black hole with room to spare is every ranking's first choice)."""
    mock_clock.rate = 1.0
    async with running(build_requester(tmp_path / "jobs.db", NODES)) as req:
        job_id = await req.submit()
        hole = await req.wait_for_execution(job_id, "n-hole")

        mock_clock.jump(lease(req) + 5)
        good = await req.wait_for_execution(job_id, "n-good")
        [lost] = [e for e in await req.executions(job_id) if e.ID == hole.ID]
        assert lost.state == E.Failed
        assert "stopped reporting" in lost.ComputeState.Message

        await req.report("n-good", good, E.Completed)
        job = await req.wait_for_state(job_id, J.Completed, J.Failed)
        assert job.State.StateType == J.Completed


async def test_an_execution_its_node_keeps_naming_stays_with_it(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    mock_clock.rate = 1.0
    async with running(build_requester(tmp_path / "jobs.db", NODES)) as req:
        job_id = await req.submit()
        execution = await req.wait_for_execution(job_id, "n-hole")
        for _ in range(4):  # twice the lease in all, renewed well within it
            mock_clock.jump(lease(req) / 2)
            assert await name(req, "n-hole", execution.ID) == []
            await trio.testing.wait_all_tasks_blocked()
        assert req.rpc.nodes_asked() == ["n-hole"]
        [kept] = await req.executions(job_id)
        assert kept.state == E.BidAccepted


async def test_another_node_cannot_keep_an_execution_alive(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    mock_clock.rate = 1.0
    async with running(build_requester(tmp_path / "jobs.db", NODES)) as req:
        job_id = await req.submit()
        hole = await req.wait_for_execution(job_id, "n-hole")
        for _ in range(4):
            mock_clock.jump(lease(req) / 2)
            await name(req, "n-good", hole.ID)  # not its execution
        await req.wait_for_execution(job_id, "n-hole", E.Failed)


async def test_a_renewal_learns_which_executions_have_ended(
    tmp_path: Path, mock_clock: trio.testing.MockClock
) -> None:
    """The node is told to stop what the requester no longer waits for: an
    execution given up on, and one it never gave (the cancel was lost)."""
    mock_clock.rate = 1.0
    async with running(build_requester(tmp_path / "jobs.db", NODES)) as req:
        job_id = await req.submit()
        hole = await req.wait_for_execution(job_id, "n-hole")
        unknown = new_execution_id()
        assert await name(req, "n-hole", hole.ID, unknown) == [unknown]

        mock_clock.jump(lease(req) + 5)
        await req.wait_for_execution(job_id, "n-hole", E.Failed)
        assert await name(req, "n-hole", hole.ID) == [hole.ID]
