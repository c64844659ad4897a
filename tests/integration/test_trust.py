"""No peer can act for another, on a real swarm.

A stranger (a libp2p peer of its own, with its own identity, speaking our
protocols directly) joins a devstack and tries what the trust model
forbids: rewriting another orchestrator's jobs in everyone's shared view,
reading files through the logs RPC, cancelling executions it did not
give, and getting work run in another requester's name or where it is not
allowed. The nodes must refuse, and keep serving honest work.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from bacalao.models.execution import Execution, RunCommandResult
from bacalao.models.ids import new_bound_job_id, new_execution_id, new_job_id
from bacalao.models.job import META_JOB_NONCE, Job
from bacalao.models.states import ExecutionStateType, JobStateType, State
from bacalao.models.wire import (
    AskBid,
    CancelExecution,
    JobEvents,
    JobSnapshot,
    LogsRequest,
)
from bacalao.node import NodeHandle
from bacalao.p2p.exceptions import RemoteError
from bacalao.p2p.host import Swarm, SwarmConfig
from bacalao.p2p.identity import load_or_create_key, peer_id_of
from bacalao.protocol import ASK_BID, CANCEL, JOB_EVENTS, LOGS

from ..p2p.conftest import RunningSwarm, wait_until
from ..unit.support import make_job
from .conftest import Api, Devstack, apis, stdout_of
from .test_jobs import noop_job

WAIT = 20.0
E = ExecutionStateType
J = JobStateType


@asynccontextmanager
async def stranger(repo: Path, *near: NodeHandle) -> AsyncIterator[Swarm]:
    """A peer that is no node of ours, connected to each of `near`."""
    config = SwarmConfig(
        listen_host="127.0.0.1",
        port=0,
        bootstrap=[addr for node in near for addr in node.swarm_addrs],
        gossip_heartbeat=0.2,
    )
    running = RunningSwarm(Swarm(repo, config))
    async with trio.open_nursery() as nursery:
        with trio.fail_after(WAIT):
            await nursery.start(running.run)
        swarm = running.swarm
        await wait_until(
            lambda: {n.node_id for n in near} <= swarm.connected_peers(), WAIT
        )
        yield swarm
        nursery.cancel_scope.cancel()


async def executions_of(api: Api, job_id: str) -> list[dict[str, Any]]:
    return list((await api.job(job_id))["Executions"]["Items"])


async def running_execution(api: Api, job_id: str) -> dict[str, Any]:
    """The job's execution once its node has started it."""
    with trio.fail_after(WAIT):
        while True:
            for execution in await executions_of(api, job_id):
                if execution["ComputeState"]["StateType"] == E.Running:
                    return execution
            await trio.sleep(0.05)


# -- the shared view ---------------------------------------------------------


def forgery_of(truth: JobSnapshot, forger: str) -> JobSnapshot:
    """`truth` rewritten by `forger` in its own name: a newer revision, the
    job failed, its output replaced."""
    job = truth.Job.model_copy(
        update={
            "Revision": truth.Job.Revision + 100,
            "ModifyTime": truth.Job.ModifyTime + 1,
            "State": State[JobStateType](StateType=J.Failed, Message="forged"),
        }
    )
    executions = [
        e.model_copy(update={"RunOutput": RunCommandResult(Stdout="forged")})
        for e in truth.Executions
    ]
    return JobSnapshot(RequesterID=forger, Job=job, Executions=executions)


def own_job_of(forger: str) -> JobSnapshot:
    """A job the forger may speak for (its ID bound to the forger)."""
    job_id, nonce = new_bound_job_id(forger)
    job = make_job("noop", ID=job_id, Meta={META_JOB_NONCE: nonce})
    return JobSnapshot(RequesterID=forger, Job=job)


async def test_a_peer_cannot_rewrite_another_orchestrators_job_in_the_shared_view(
    devstack: Devstack, tmp_path: Path
) -> None:
    async with devstack(2) as nodes:
        owner, replica = apis(nodes)
        job_id = await owner.submit(noop_job(Stdout="truth"))
        await owner.wait_for(job_id, ("Completed",))
        await replica.wait_for(job_id, ("Completed",))
        truth = await nodes[0].node.store.snapshot(job_id)
        assert truth is not None

        async with stranger(tmp_path / "stranger", *nodes) as forger:
            forged = forgery_of(truth, forger.peer_id)
            # its own job rides in the same message: once that is stored,
            # the forgery has been received and judged too
            marker = own_job_of(forger.peer_id)
            message = JobEvents(RequesterID=forger.peer_id, Jobs=[forged, marker])
            with trio.fail_after(WAIT):
                while (
                    await replica.call(
                        "GET", f"/api/v1/orchestrator/jobs/{marker.Job.ID}"
                    )
                )[0] != 200:
                    await forger.gossip.publish(JOB_EVENTS, message)
                    await trio.sleep(0.3)

        for api in (owner, replica):
            seen = await api.job(job_id)
            assert seen["Job"]["State"]["StateType"] == "Completed"
            assert stdout_of(seen) == "truth"
        assert nodes[1].node.shared.refused >= 1


def big_job(stdout: str) -> tuple[dict[str, Any], str]:
    """A job whose snapshot (~2.7 MB, a 2 MiB inline input) is over gossip's
    1 MiB, and that input's data URL. It runs for a second, so it is seen
    before it ends."""
    data = base64.b64encode(b"x" * 2 * 1024 * 1024).decode()
    url = f"data:application/octet-stream;base64,{data}"
    job = noop_job(Stdout=stdout, Duration=1.0)
    job["Tasks"][0]["InputSources"] = [
        {"Source": {"Type": "inline", "Params": {"URL": url}}, "Target": "/big"}
    ]
    return job, url


async def test_a_job_too_big_for_gossip_still_reaches_every_node(
    devstack: Devstack,
) -> None:
    job, url = big_job("big")
    async with devstack(2) as nodes:
        owner, other = apis(nodes)
        job_id = await owner.submit(job)
        with trio.fail_after(15):  # well before the periodic sync (30 s)
            while (await other.call("GET", f"/api/v1/orchestrator/jobs/{job_id}"))[
                0
            ] != 200:
                await trio.sleep(0.1)
        seen = await other.job(job_id)
        [source] = seen["Job"]["Tasks"][0]["InputSources"]
        assert source["Source"]["Params"]["URL"] == url


async def test_the_final_state_of_a_job_too_big_for_gossip_reaches_every_node(
    devstack: Devstack,
) -> None:
    """Seen Running elsewhere, it must be seen Completed there too."""
    job, _ = big_job("big")
    async with devstack(2) as nodes:
        owner, other = apis(nodes)
        job_id = await owner.submit(job)
        await other.wait_for(job_id, ("Running",), timeout=15)
        await owner.wait_for(job_id, ("Completed",))
        seen = await other.wait_for(job_id, ("Completed",), timeout=15)
        assert stdout_of(seen) == "big"


# -- compute node RPCs -------------------------------------------------------


async def logs(swarm: Swarm, node_id: str, execution_id: str) -> list[str]:
    request = LogsRequest(ExecutionID=execution_id)
    with trio.fail_after(WAIT):
        async with swarm.rpc.open_stream(node_id, LOGS, request) as chunks:
            return [chunk.Line async for chunk in chunks]


async def test_the_logs_rpc_reads_only_executions_the_node_holds(
    devstack: Devstack, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "stdout").write_text("not for you\n")
    async with devstack(1) as nodes:
        [api] = apis(nodes)
        job_id = await api.submit(noop_job(Stdout="hello"))
        await api.wait_for(job_id, ("Completed",))
        [execution] = await executions_of(api, job_id)
        results = nodes[0].node.config.repo / "executions"
        traversals = [
            str(secret),
            str(Path("..", "..", "..", "secret")),
            f"{execution['ID']}/../../../../secret",
        ]
        assert (results / traversals[1]).resolve() == secret.resolve()

        async with stranger(tmp_path / "stranger", *nodes) as peer:
            assert "hello" in "".join(
                await logs(peer, nodes[0].node_id, execution["ID"])
            )
            for attempt in traversals:
                with pytest.raises(RemoteError) as refused:
                    await logs(peer, nodes[0].node_id, attempt)
                assert refused.value.code == "not_found", attempt


async def test_only_its_requester_can_cancel_an_execution(
    devstack: Devstack, tmp_path: Path
) -> None:
    async with devstack(2, per_node={0: {"compute": False}}) as nodes:
        requester = apis(nodes)[0]
        # long enough to outlast the stranger's start on a loaded machine
        job_id = await requester.submit(noop_job(Duration=120.0, Stdout="finished"))
        execution = await running_execution(requester, job_id)
        assert execution["NodeID"] == nodes[1].node_id

        async with stranger(tmp_path / "stranger", *nodes) as peer:
            cancel = CancelExecution(
                ExecutionID=execution["ID"], JobID=job_id, Reason="mischief"
            )
            with pytest.raises(RemoteError) as refused:
                await peer.rpc.call(nodes[1].node_id, CANCEL, cancel, timeout=WAIT)
            assert refused.value.code == "forbidden"

        # still running: the refused cancel did nothing; its requester's does
        [still] = await executions_of(requester, job_id)
        assert still["ComputeState"]["StateType"] == E.Running
        status, _ = await requester.call(
            "DELETE", f"/api/v1/orchestrator/jobs/{job_id}?reason=test+over"
        )
        assert status == 200


def bid_request(compute: NodeHandle, requester: str) -> AskBid:
    job = Job.model_validate(
        {**noop_job(Stdout="who asked?"), "ID": new_job_id(), "Name": "stranger"}
    )
    execution = Execution(
        ID=new_execution_id(), JobID=job.ID, NodeID=compute.node_id, Job=job
    )
    return AskBid(Execution=execution, RequesterID=requester)


async def test_a_peer_cannot_ask_for_bids_in_another_requesters_name(
    devstack: Devstack, tmp_path: Path
) -> None:
    async with devstack(2, per_node={0: {"compute": False}}) as nodes:
        requester, compute = nodes
        async with stranger(tmp_path / "stranger", *nodes) as peer:
            ask = bid_request(compute, requester.node_id)
            with pytest.raises(RemoteError) as refused:
                await peer.rpc.call(compute.node_id, ASK_BID, ask, timeout=WAIT)
            assert refused.value.code == "forbidden"
        assert compute.node.compute is not None
        assert not await compute.node.compute.holds(ask.Execution.ID)


async def test_a_compute_node_takes_work_only_from_its_allowed_requesters(
    devstack: Devstack, tmp_path: Path
) -> None:
    repo = tmp_path / "nodes" / "node-0"  # where the devstack keeps node 0
    allowed = peer_id_of(load_or_create_key(repo))
    per_node = {0: {"compute": False}, 1: {"allowed_requesters": [allowed]}}
    async with devstack(2, per_node=per_node) as nodes:
        requester, compute = nodes
        assert requester.node_id == allowed
        async with stranger(tmp_path / "stranger", *nodes) as peer:
            ask = bid_request(compute, peer.peer_id)  # in its own name
            with pytest.raises(RemoteError) as refused:
                await peer.rpc.call(compute.node_id, ASK_BID, ask, timeout=WAIT)
            assert refused.value.code == "forbidden"
            assert "allowed requesters" in refused.value.message

        api = apis(nodes)[0]
        done = await api.wait_for(await api.submit(noop_job(Stdout="allowed")))
        assert stdout_of(done) == "allowed"
