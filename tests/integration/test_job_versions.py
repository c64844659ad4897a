"""Job versions on an in-process swarm: a version made on one node is
listed by every other node, and only the job's owner makes new ones."""

from __future__ import annotations

from typing import Any

import trio

from bacalao.models.states import ExecutionStateType

from .conftest import Api, Devstack, apis, stdout_of

JOBS = "/api/v1/orchestrator/jobs"
NAME = "nightly"
CANCELLED = int(ExecutionStateType.Cancelled)


def named_job(message: str, duration: float = 0) -> dict[str, Any]:
    params = {"Stdout": message, "Duration": duration}
    return {
        "Name": NAME,
        "Type": "batch",
        "Tasks": [{"Engine": {"Type": "noop", "Params": params}}],
    }


async def versions_seen(api: Api, count: int, timeout: float = 20) -> list[Any]:
    """The versions `api` lists for the job, once it lists `count` of them."""
    with trio.fail_after(timeout):
        while True:
            status, body = await api.call("GET", f"{JOBS}/{NAME}/versions")
            if status == 200 and len(body["Items"]) == count:
                return list(body["Items"])
            await trio.sleep(0.05)


async def test_a_version_made_on_one_node_is_listed_on_the_others(
    devstack: Devstack,
) -> None:
    async with devstack(3, per_node={2: {"orchestrator": False}}) as nodes:
        owner, other, compute_only = apis(nodes)
        job_id = await owner.submit(named_job("v1"))
        await owner.wait_for(job_id)
        assert await owner.submit(named_job("v2")) == job_id
        done = await owner.wait_for(job_id, ("Completed",))
        assert done["Job"]["Version"] == 2
        current = [e for e in done["Executions"]["Items"] if e["JobVersion"] == 2]
        assert stdout_of({"Executions": {"Items": current}}) == "v2"

        for api in (other, compute_only):
            items = await versions_seen(api, 2)
            assert [(v["ID"], v["Version"]) for v in items] == [
                (job_id, 1),
                (job_id, 2),
            ]
            stdouts = [v["Tasks"][0]["Engine"]["Params"]["Stdout"] for v in items]
            assert stdouts == ["v1", "v2"]


async def test_only_the_owner_makes_new_versions(devstack: Devstack) -> None:
    async with devstack(2) as nodes:
        owner, other = apis(nodes)
        job_id = await owner.submit(named_job("v1"))
        await other.wait_for(job_id)  # the other node has its replica

        status, body = await other.call("PUT", JOBS, {"Job": named_job("v2")})
        assert status == 409, body
        assert "owned by another node" in body["Message"]
        assert nodes[0].node.node_id in body["Hint"]

        status, body = await other.call("PUT", f"{JOBS}/{job_id}/rerun", {})
        assert status == 409, body


async def test_updating_a_running_job_cancels_its_execution_everywhere(
    devstack: Devstack,
) -> None:
    async with devstack(2) as nodes:
        owner, other = apis(nodes)
        job_id = await owner.submit(named_job("slow", duration=60))
        running = await owner.wait_for(job_id, ("Running",))
        [old] = running["Executions"]["Items"]

        await owner.submit(named_job("quick"))
        done = await owner.wait_for(job_id, ("Completed",))
        assert done["Job"]["Version"] == 2
        with trio.fail_after(20):
            while True:  # the other node's replica of the old execution
                status, seen = await other.call(
                    "GET", f"{JOBS}/{job_id}?include=executions"
                )
                if status == 404:  # no replica yet
                    await trio.sleep(0.05)
                    continue
                assert status == 200, seen
                states = {
                    e["ID"]: e["ComputeState"] for e in seen["Executions"]["Items"]
                }
                if states.get(old["ID"], {}).get("StateType") == CANCELLED:
                    break
                await trio.sleep(0.05)
        assert "job updated to version 2" in states[old["ID"]]["Message"]
