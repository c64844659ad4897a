"""A spec under an existing job's name makes that job's next version.

The orchestrator on a real store, with fake compute nodes (requester.py):
the job keeps its ID, the old version's executions are cancelled, the new
one is placed and runs to its own end; reruns make versions too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bacalao.models.job import Job
from bacalao.models.states import ExecutionStateType, JobStateType
from bacalao.models.wire import JobSnapshot
from bacalao.orchestrator.exceptions import (
    InvalidJobState,
    NothingChanged,
    VersionNotFound,
)

from .requester import Requester, build_requester, running
from .support import make_job

E = ExecutionStateType
J = JobStateType
NAME = "nightly"


def named(message: str = "v1", **fields: Any) -> Job:
    return make_job("noop", {"Stdout": message}, Name=NAME, **fields)


@pytest.fixture
async def requester(tmp_path: Path) -> Requester:
    return build_requester(tmp_path / "jobs.db", {"n-a": 4.0})


async def test_a_changed_spec_under_the_same_name_replaces_the_running_version(
    requester: Requester,
) -> None:
    async with running(requester) as req:
        job_id = await req.submit(named("v1"))
        old = await req.wait_for_execution(job_id, "n-a")

        assert await req.submit(named("v2")) == job_id
        job = await req.job(job_id)
        assert job.Version == 2
        assert job.task.Engine.Params["Stdout"] == "v2"
        new = await req.wait_for_execution(job_id, "n-a")
        assert new.JobVersion == 2

        executions = {e.ID: e for e in await req.executions(job_id)}
        assert executions[old.ID].state == E.Cancelled
        assert "job updated to version 2" in executions[old.ID].ComputeState.Message
        assert [c.ExecutionID for _, c in req.rpc.cancels] == [old.ID]

        await req.report("n-a", new, E.Completed)
        assert (await req.wait_for_state(job_id, J.Completed)).Version == 2
        versions = await req.store.versions(job_id)
        assert [(v.Version, v.task.Engine.Params["Stdout"]) for v in versions] == [
            (1, "v1"),
            (2, "v2"),
        ]


async def test_a_completed_job_runs_again_as_its_new_version(
    requester: Requester,
) -> None:
    async with running(requester) as req:
        job_id = await req.submit(named("v1"))
        first = await req.wait_for_execution(job_id, "n-a")
        await req.report("n-a", first, E.Completed)
        await req.wait_for_state(job_id, J.Completed)

        assert await req.submit(named("v2")) == job_id
        # the old version's completed execution does not complete the new one
        second = await req.wait_for_execution(job_id, "n-a")
        assert second.ID != first.ID
        assert (await req.job(job_id)).State.StateType in (J.Pending, J.Running)
        await req.report("n-a", second, E.Completed)
        await req.wait_for_state(job_id, J.Completed)


async def test_an_unchanged_spec_is_refused_and_forced_makes_a_version(
    requester: Requester,
) -> None:
    async with running(requester) as req:
        job_id = await req.submit(named())
        with pytest.raises(NothingChanged) as refused:
            await req.submit(named())
        assert job_id in refused.value.message
        assert (await req.job(job_id)).Version == 1

        await req.orchestrator.submit(named(), force=True)
        assert (await req.job(job_id)).Version == 2


async def test_jobs_without_a_name_are_new_jobs_every_time(
    requester: Requester,
) -> None:
    async with running(requester) as req:
        spec = make_job("noop", {"Stdout": "same"})
        assert await req.submit(spec) != await req.submit(spec)


async def test_the_same_name_in_another_namespace_is_another_job(
    requester: Requester,
) -> None:
    async with running(requester) as req:
        first = await req.submit(named())
        assert await req.submit(named(Namespace="team")) != first


async def test_a_rerun_runs_an_earlier_spec_as_the_next_version(
    requester: Requester,
) -> None:
    async with running(requester) as req:
        job_id = await req.submit(named("v1"))
        await req.wait_for_execution(job_id, "n-a")
        await req.submit(named("v2"))
        await req.wait_for_state(job_id, J.Running)

        rerun = await req.orchestrator.rerun(job_id, 1, "try the old one")
        assert rerun.Version == 3
        job = await req.job(job_id)
        assert (job.Version, job.task.Engine.Params["Stdout"]) == (3, "v1")
        history = await req.store.history(job_id)
        assert any(
            "Job rerun from version 1: try the old one" in h.Event.Message
            for h in history
        )
        with pytest.raises(VersionNotFound, match="has no version 9"):
            await req.orchestrator.rerun(job_id, 9)


async def test_a_job_waiting_to_be_placed_is_not_rerun(tmp_path: Path) -> None:
    async with running(build_requester(tmp_path / "jobs.db")) as req:
        job_id = await req.submit(named())  # no compute node: it waits
        await req.wait_for_state(job_id, J.Pending, J.Queued)
        with pytest.raises(InvalidJobState, match="cannot rerun job in state"):
            await req.orchestrator.rerun(job_id)


async def test_a_name_another_node_owns_is_refused_here(
    requester: Requester,
) -> None:
    theirs = named(ID="j-theirs", Version=1, Revision=1, State={"StateType": "Running"})
    await requester.store.put_snapshots(
        [JobSnapshot(RequesterID="n-other", Job=theirs)]
    )
    async with running(requester) as req:
        with pytest.raises(InvalidJobState) as refused:
            await req.submit(named("changed"))
        assert "owned by another node" in refused.value.message
        assert "n-other" in refused.value.hint


async def test_the_diff_compares_a_spec_with_the_stored_job_of_its_name(
    requester: Requester,
) -> None:
    async with running(requester) as req:
        await req.submit(named("v1"))
        assert await req.orchestrator.diff(named("v1")) == ""
        diff = await req.orchestrator.diff(named("v2"))
        changed = [line.replace(" ", "") for line in diff.splitlines()[2:]]
        assert '-"Stdout":"v1"' in changed
        assert '+"Stdout":"v2"' in changed
