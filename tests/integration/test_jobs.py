"""A job's whole lifecycle on a 3-node swarm, through the HTTP API."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import trio

from bacalao.models.wire import AskBid
from bacalao.orchestrator.scheduler import SchedulerSettings
from bacalao.protocol import ASK_BID

from .conftest import Devstack, apis, stdout_of


def noop_job(**params: Any) -> dict[str, Any]:
    return {"Type": "batch", "Tasks": [{"Engine": {"Type": "noop", "Params": params}}]}


def wasm_job(module: bytes, *args: str) -> dict[str, Any]:
    url = "data:application/wasm;base64," + base64.b64encode(module).decode()
    return {
        "Type": "batch",
        "Tasks": [
            {
                "Name": "main",
                "Engine": {
                    "Type": "wasm",
                    "Params": {
                        "EntryModule": "/app/main.wasm",
                        "Parameters": list(args),
                    },
                },
                "InputSources": [
                    {
                        "Source": {"Type": "inline", "Params": {"URL": url}},
                        "Target": "/app/main.wasm",
                    }
                ],
            }
        ],
    }


async def test_job_completes_and_every_node_answers_for_it(devstack: Devstack) -> None:
    async with devstack(3) as nodes:
        first, _, last = apis(nodes)
        job_id = await first.submit(noop_job(Stdout="hello"))
        done = await first.wait_for(job_id)
        assert done["Job"]["State"]["StateType"] == "Completed"
        assert stdout_of(done) == "hello"
        seen = await last.wait_for(job_id, ("Completed",))
        assert seen["Job"]["ID"] == job_id
        assert [e["ID"] for e in seen["Executions"]["Items"]] == [
            e["ID"] for e in done["Executions"]["Items"]
        ]
        events = [h["Event"]["Message"] for h in seen["History"]["Items"]]
        assert events[0] == "Job submitted"
        assert "Completed successfully" in events


async def test_compute_only_node_answers_for_jobs_without_following_gossip(
    devstack: Devstack,
) -> None:
    async with devstack(3, per_node={2: {"orchestrator": False}}) as nodes:
        first, _, compute_only = apis(nodes)
        assert not nodes[2].node.shared.follow_gossip
        job_id = await first.submit(noop_job(Stdout="pulled"))
        await first.wait_for(job_id)
        # Asked right after completion, with no periodic sync in between:
        # the read itself pulls from the orchestrators.
        status, seen = await compute_only.call(
            "GET", f"/api/v1/orchestrator/jobs/{job_id[:10]}?include=executions"
        )
        assert status == 200, seen
        assert seen["Job"]["State"]["StateType"] == "Completed"
        assert stdout_of(seen) == "pulled"
        status, listed = await compute_only.call("GET", "/api/v1/orchestrator/jobs")
        assert status == 200
        assert job_id in [j["ID"] for j in listed["Items"]]


async def test_short_id_prefix_finds_the_job(devstack: Devstack) -> None:
    async with devstack(1) as nodes:
        (api,) = apis(nodes)
        job_id = await api.submit(noop_job())
        status, body = await api.call("GET", f"/api/v1/orchestrator/jobs/{job_id[:10]}")
        assert status == 200
        assert body["Job"]["ID"] == job_id


async def test_wasm_job_returns_its_output(
    devstack: Devstack, hello_wasm: bytes
) -> None:
    async with devstack(3, engines=["wasm"]) as nodes:
        api = apis(nodes)[0]
        job_id = await api.submit(wasm_job(hello_wasm))
        done = await api.wait_for(job_id)
        assert done["Job"]["State"]["StateType"] == "Completed", done["Job"]["State"]
        assert stdout_of(done).strip() == "hello from wasm"


@pytest.mark.docker
async def test_docker_job_returns_its_output(
    devstack: Devstack, docker_engine: None
) -> None:
    job = {
        "Type": "batch",
        "Tasks": [
            {
                "Engine": {
                    "Type": "docker",
                    "Params": {
                        "Image": "busybox:1.37.0",
                        "Parameters": ["echo", "hello docker"],
                    },
                }
            }
        ],
    }
    async with devstack(3, engines=["docker"]) as nodes:
        api = apis(nodes)[1]
        job_id = await api.submit(job)
        done = await api.wait_for(job_id, timeout=60)
        assert done["Job"]["State"]["StateType"] == "Completed", done["Job"]["State"]
        assert stdout_of(done) == "hello docker\n"


async def test_bad_jobs_are_refused_and_stored_jobs_stay(devstack: Devstack) -> None:
    async with devstack(1) as nodes:
        (api,) = apis(nodes)
        kept = await api.submit(noop_job(Stdout="kept"))
        await api.wait_for(kept)
        cases = [
            (
                {"Job": {"Tasks": [{"Engine": {"Type": "docker", "Params": {}}}]}},
                "Image",
            ),
            ({"Job": {"Tasks": [{"Engine": {"Type": "nope"}}]}}, "Engine.Type"),
            ({"Job": {"Tasks": []}}, "Tasks"),
            (
                {"Job": {"Count": "many", "Tasks": [{"Engine": {"Type": "noop"}}]}},
                "Count",
            ),
            (b"{not json", "JSON"),
        ]
        for body, field in cases:
            status, answer = await api.call("PUT", "/api/v1/orchestrator/jobs", body)
            assert status == 400, (body, answer)
            assert field in answer["Message"], answer
        status, answer = await api.call(
            "GET", "/api/v1/orchestrator/jobs/j-does-not-exist"
        )
        assert status == 404
        assert "j-does-not-exist" in answer["Message"]
        status, listing = await api.call("GET", "/api/v1/orchestrator/jobs")
        assert [j["ID"] for j in listing["Items"]] == [kept]
        assert stdout_of(await api.job(kept)) == "kept"


async def test_job_no_node_can_run_fails_with_the_reason(devstack: Devstack) -> None:
    job = {"Tasks": [{"Engine": {"Type": "docker", "Params": {"Image": "busybox"}}}]}
    async with devstack(3, engines=["wasm"], allow_noop=False) as nodes:
        api = apis(nodes)[0]
        job_id = await api.submit(job)
        done = await api.wait_for(job_id, timeout=10)
        state = done["Job"]["State"]
        assert state["StateType"] == "Failed"
        assert "3 nodes considered" in state["Message"]
        assert "do not support engine 'docker'" in state["Message"]


async def test_nodes_list_every_node_of_the_swarm(devstack: Devstack) -> None:
    async with devstack(3) as nodes:
        for api in apis(nodes):
            status, body = await api.call("GET", "/api/v1/orchestrator/nodes")
            assert status == 200
            listed = {n["Info"]["NodeID"] for n in body["Nodes"]}
            assert listed == {h.node_id for h in nodes}


async def test_job_on_a_lost_node_is_rescheduled(devstack: Devstack) -> None:
    async with devstack(3) as nodes:
        api = apis(nodes)[0]
        # only nodes 1 and 2 run jobs, so losing the one running it leaves another
        job = noop_job(Duration=30, Stdout="late")
        job["Constraints"] = [
            {"Key": "devstack-node", "Operator": "!=", "Values": ["0"]}
        ]
        job_id = await api.submit(job)
        running = await api.wait_for(job_id, ("Running",))
        node_id = running["Executions"]["Items"][0]["NodeID"]
        victim = next(h for h in nodes if h.node_id == node_id)
        victim.node.stop()
        with trio.fail_after(20):
            while True:
                described = await api.job(job_id)
                executions = described["Executions"]["Items"]
                moved = [e for e in executions if e["NodeID"] != node_id]
                if moved and moved[0]["ComputeState"]["StateType"] == 6:
                    break
                await trio.sleep(0.05)
        lost = next(e for e in executions if e["NodeID"] == node_id)
        assert lost["ComputeState"]["StateType"] == 10
        assert "stopped responding" in lost["ComputeState"]["Message"]


async def test_stopping_a_job_cancels_its_execution(devstack: Devstack) -> None:
    async with devstack(2) as nodes:
        api = apis(nodes)[0]
        job_id = await api.submit(noop_job(Duration=60))
        await api.wait_for(job_id, ("Running",))
        status, body = await api.call(
            "DELETE",
            f"/api/v1/orchestrator/jobs/{job_id}",
            {"reason": "changed my mind"},
        )
        assert status == 200, body
        done = await api.wait_for(job_id)
        assert done["Job"]["State"]["StateType"] == "Stopped"
        assert done["Job"]["State"]["Message"] == "changed my mind"
        execution = done["Executions"]["Items"][0]
        assert execution["ComputeState"]["StateType"] == 11
        computes = [h.node.compute for h in nodes]
        with trio.fail_after(5):
            while any(c is not None and c.running_count for c in computes):
                await trio.sleep(0.02)


async def test_job_every_node_declines_fails_fast_with_their_reason(
    devstack: Devstack, hello_wasm: bytes
) -> None:
    job = wasm_job(hello_wasm)
    job["Tasks"][0]["Engine"]["Params"]["EntryModule"] = "/not/there.wasm"
    async with devstack(2, engines=["wasm"], allow_noop=False) as nodes:
        api = apis(nodes)[0]
        job_id = await api.submit(job)
        done = await api.wait_for(job_id, timeout=10)
        state = done["Job"]["State"]
        assert state["StateType"] == "Failed"
        assert "2 declined" in state["Message"]
        assert "/not/there.wasm" in state["Message"]
        assert "queue" not in state["Message"]


async def test_job_whose_executions_keep_failing_gives_up(devstack: Devstack) -> None:
    # A service that exits at once is restarted elsewhere, but not forever.
    async with devstack(3) as nodes:
        first = apis(nodes)[0]
        service = noop_job() | {"Type": "service"}
        job_id = await first.submit(service)
        done = await first.wait_for(job_id, ("Failed",), timeout=60)
        assert "gave up after 10 executions failed" in done["Job"]["State"]["Message"]
        assert len(done["Executions"]["Items"]) == 10


async def test_slow_bid_answer_is_asked_again_not_placed_twice(
    devstack: Devstack,
) -> None:
    """A node too busy to answer the ask in time still gets the job, once:
    the requester asks it again instead of failing the execution and placing
    the job elsewhere (the node may already be running it)."""
    asks: list[str] = []
    async with devstack(2, bid_timeout=0.5) as nodes:
        for handle in nodes:
            rpc = handle.node.swarm.rpc
            answer = rpc._local[ASK_BID.protocol]

            async def slow_first(
                peer: str,
                request: AskBid,
                answer: Any = answer,
                node: str = handle.node_id,
            ) -> Any:
                asks.append(node)
                if asks.count(node) == 1:
                    await trio.sleep(1.0)  # past the requester's bid timeout
                return await answer(peer, request)

            rpc._local[ASK_BID.protocol] = slow_first
        api = apis(nodes)[0]
        job_id = await api.submit(noop_job(Stdout="once"))
        done = await api.wait_for(job_id)
    assert done["Job"]["State"]["StateType"] == "Completed"
    assert len(done["Executions"]["Items"]) == 1
    assert len(asks) >= 2
    assert len(set(asks)) == 1  # the same node, asked again


async def test_job_declined_by_a_busy_node_many_times_still_runs(
    devstack: Devstack,
) -> None:
    """Declines are not failed attempts: a job queued behind a long one on
    the only node is declined again and again (busy), then runs."""
    async with devstack(1, max_cpu=0.5, max_queued=0, queue_retry_max=0.1) as nodes:
        api = apis(nodes)[0]
        long = await api.submit(noop_job(Duration=2.0))
        await api.wait_for(long, ("Running",))
        queued = await api.submit(noop_job(Stdout="my turn"))
        done = await api.wait_for(queued, timeout=30)
    assert done["Job"]["State"]["StateType"] == "Completed", done["Job"]["State"]
    declined = [
        e
        for e in done["Executions"]["Items"]
        if e["ComputeState"]["StateType"] == 4  # AskForBidRejected
    ]
    assert len(declined) > SchedulerSettings().max_attempts_per_slot
    assert stdout_of(done) == "my turn"


async def test_crashed_node_is_lost_by_its_dropped_connection_not_its_silence(
    devstack: Devstack,
) -> None:
    """Heartbeats so slow that silence alone would take 40 s: a stopped node
    is lost within seconds, because its connection closed and its address
    refuses a redial (it had dialed node 0, which never dialed it)."""
    async with devstack(2, heartbeat_interval=10.0, node_timeout=40.0) as nodes:
        first, second = nodes
        assert first.node.nodes.is_connected(second.node_id)
        second.node.stop()
        with trio.fail_after(8):
            while first.node.nodes.is_connected(second.node_id):
                await first.node.nodes.changed.wait()
        state = next(
            s for s in first.node.nodes.states() if s.Info.NodeID == second.node_id
        )
        assert state.Connection == "DISCONNECTED"


async def test_ask_to_itself_that_times_out_still_runs_the_job(
    devstack: Devstack,
) -> None:
    """A node asking itself for a bid gives up after the bid timeout while
    its compute side is still storing the accepted execution; the repeated
    ask gets the same yes, and the job must then run, not hang in Running."""
    async with devstack(1, bid_timeout=0.3) as nodes:
        compute = nodes[0].node.compute
        assert compute is not None
        put = compute.store.put
        slow_once: list[bool] = []

        async def slow_put(*args: Any, **kwargs: Any) -> Any:
            if not slow_once:
                slow_once.append(True)
                await trio.sleep(0.6)  # past the bid timeout
            return await put(*args, **kwargs)

        compute.store.put = slow_put  # type: ignore[method-assign]
        api = apis(nodes)[0]
        job_id = await api.submit(noop_job(Stdout="ran"))
        done = await api.wait_for(job_id, timeout=15)
    assert done["Job"]["State"]["StateType"] == "Completed"
    assert stdout_of(done) == "ran"
    assert slow_once
