"""Faults a swarm must ride out: restarts, a full disk, silent nodes.

Real nodes in one process (see conftest). A requester restarts while its
compute node reports; a requester's disk fills up (a real tmpfs) while a
job runs; a compute node takes a job and then never says a word about it;
a cancel is lost on its way. Every job must still end, and end right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from bacalao.models.states import ExecutionStateType
from bacalao.models.wire import Ack, AskBid, Bid, CancelExecution
from bacalao.node import Node, NodeHandle
from bacalao.ports import free_port
from bacalao.protocol import ASK_BID, CANCEL

from ..full_disk import small_disk
from .conftest import Api, Devstack, apis, stdout_of
from .test_jobs import noop_job

WAIT = 30.0
LEASES = {"execution_lease_interval": 0.3, "execution_lease_timeout": 1.5}


async def wait_until_all(api: Api, job_ids: list[str], states: tuple[str, ...]) -> None:
    for job_id in job_ids:
        await api.wait_for(job_id, states, timeout=WAIT)


async def outbox_of(handle: NodeHandle) -> list[Any]:
    assert handle.node.compute is not None
    return list(await handle.node.compute.store.pending())


# -- a requester restarts -----------------------------------------------------


async def test_jobs_finishing_while_their_requester_restarts_all_complete(
    devstack: Devstack,
) -> None:
    port = free_port()
    async with devstack(
        2, per_node={0: {"swarm_port": port, "compute": False}}
    ) as nodes:
        requester, compute = nodes
        api = apis(nodes)[0]
        job_ids = [
            await api.submit(noop_job(Duration=0.5 + 0.2 * i, Stdout=f"job {i}"))
            for i in range(6)
        ]
        await wait_until_all(api, job_ids, ("Running",))

        requester.node.stop()
        assert compute.node.compute is not None
        with trio.fail_after(WAIT):  # they finish while nobody listens
            while compute.node.compute.running_count or not await outbox_of(compute):
                await trio.sleep(0.05)

        async with trio.open_nursery() as nursery:
            restarted: NodeHandle = await nursery.start(Node(requester.node.config).run)
            again = Api(restarted.api_url)
            for i, job_id in enumerate(job_ids):
                done = await again.wait_for(job_id, timeout=WAIT)
                assert done["Job"]["State"]["StateType"] == "Completed", done["Job"]
                assert stdout_of(done) == f"job {i}"
            with trio.fail_after(WAIT):
                while await outbox_of(compute):
                    await trio.sleep(0.05)
            restarted.node.stop()


# -- a requester's disk fills up ---------------------------------------------


async def test_a_full_disk_delays_a_requester_but_loses_nothing(
    devstack: Devstack, tmp_path: Path
) -> None:
    # where the devstack keeps node 0's repo (its identity key, its job store)
    with small_disk(tmp_path / "nodes" / "node-0") as disk:
        async with devstack(2, per_node={0: {"compute": False}}) as nodes:
            compute = nodes[1]
            api = apis(nodes)[0]
            job_id = await api.submit(noop_job(Duration=1.0, Stdout="kept"))
            await api.wait_for(job_id, ("Running",))
            await trio.to_thread.run_sync(disk.fill)

            status, body = await api.call(
                "PUT", "/api/v1/orchestrator/jobs", {"Job": noop_job()}
            )
            assert status == 503, body
            assert "full" in body["Message"]
            assert "disk space" in body["Hint"]

            assert compute.node.compute is not None
            with trio.fail_after(WAIT):  # finished, reported, not yet stored
                while compute.node.compute.running_count:
                    await trio.sleep(0.05)
            assert await outbox_of(compute)
            assert (await api.job(job_id))["Job"]["State"]["StateType"] == "Running"

            await trio.to_thread.run_sync(disk.make_room)
            done = await api.wait_for(job_id, timeout=WAIT)
            assert done["Job"]["State"]["StateType"] == "Completed"
            assert stdout_of(done) == "kept"
            later = await api.wait_for(await api.submit(noop_job(Stdout="later")))
            assert stdout_of(later) == "later"


# -- a compute node goes silent -----------------------------------------------


def make_black_hole(handle: NodeHandle) -> None:
    """`handle` accepts every bid ask and then does nothing, ever; as a node
    it stays alive (heartbeats, pings, node info)."""

    async def accept_and_forget(_peer: str, request: AskBid) -> Bid:
        return Bid(
            ExecutionID=request.Execution.ID, Accepted=True, NodeID=handle.node_id
        )

    handle.node.swarm.rpc.register(ASK_BID, accept_and_forget)


def only_on(index: int) -> list[dict[str, Any]]:
    return [{"Key": "devstack-node", "Operator": "=", "Values": [str(index)]}]


async def test_a_job_given_to_a_silent_node_completes_on_another(
    devstack: Devstack,
) -> None:
    per_node: dict[int, dict[str, Any]] = {0: {"compute": False}}
    async with devstack(3, per_node=per_node, **LEASES) as nodes:
        requester, hole, honest = nodes
        make_black_hole(hole)
        api = apis(nodes)[0]
        # the honest node is busy with other work, so the idle-looking black
        # hole is the first choice
        busy = {**noop_job(Duration=60), "Constraints": only_on(2)}
        await api.wait_for(await api.submit(busy), ("Running",))
        with trio.fail_after(WAIT):
            while not _runs_something(requester, honest.node_id):
                await trio.sleep(0.05)

        job_id = await api.submit(noop_job(Stdout="made it"))
        done = await api.wait_for(job_id, timeout=WAIT)
        assert done["Job"]["State"]["StateType"] == "Completed", done["Job"]["State"]
        assert stdout_of(done) == "made it"
        by_node = {e["NodeID"]: e for e in done["Executions"]["Items"]}
        assert "stopped reporting" in by_node[hole.node_id]["ComputeState"]["Message"]


def _runs_something(requester: NodeHandle, node_id: str) -> bool:
    """Whether `requester` has heard that `node_id` is running something."""
    info = requester.node.nodes.get(node_id)
    compute = info.ComputeNodeInfo if info is not None else None
    return compute is not None and compute.RunningExecutions > 0


async def test_an_execution_running_longer_than_the_lease_is_not_given_up(
    devstack: Devstack,
) -> None:
    """Its node names it at every lease interval: it runs to its end."""
    async with devstack(2, per_node={0: {"compute": False}}, **LEASES) as nodes:
        api = apis(nodes)[0]
        lease = LEASES["execution_lease_timeout"]
        job_id = await api.submit(noop_job(Duration=3 * lease, Stdout="patient"))
        done = await api.wait_for(job_id, timeout=WAIT)
        assert done["Job"]["State"]["StateType"] == "Completed", done["Job"]["State"]
        states = [e["ComputeState"]["StateType"] for e in done["Executions"]["Items"]]
        assert states == [ExecutionStateType.Completed]  # one attempt, never failed


async def test_an_execution_whose_cancel_was_lost_stops_at_its_next_lease(
    devstack: Devstack,
) -> None:
    async with devstack(2, per_node={0: {"compute": False}}, **LEASES) as nodes:
        compute = nodes[1]

        async def lose(_peer: str, _request: CancelExecution) -> Ack:
            return Ack()

        compute.node.swarm.rpc.register(CANCEL, lose)
        api = apis(nodes)[0]
        job_id = await api.submit(noop_job(Duration=120))
        await api.wait_for(job_id, ("Running",))
        assert compute.node.compute is not None
        assert compute.node.compute.running_count == 1

        status, body = await api.call(
            "DELETE", f"/api/v1/orchestrator/jobs/{job_id}", {"reason": "enough"}
        )
        assert status == 200, body
        with trio.fail_after(WAIT):
            while compute.node.compute.running_count:
                await trio.sleep(0.05)
