"""Nothing is lost when a requester restarts in the middle of a job."""

from __future__ import annotations

import trio

from bacalao.node import Node, NodeHandle
from bacalao.ports import free_port

from .conftest import Api, Devstack, apis
from .test_jobs import noop_job


async def test_requester_restart_keeps_jobs_and_results(devstack: Devstack) -> None:
    port = free_port()
    async with devstack(
        2, per_node={0: {"swarm_port": port, "compute": False}}
    ) as nodes:
        requester = nodes[0]
        api = apis(nodes)[0]
        finished = await api.submit(noop_job(Stdout="before"))
        await api.wait_for(finished)
        in_flight = await api.submit(
            noop_job(Duration=1.5, Stdout="across the restart")
        )
        await api.wait_for(in_flight, ("Running",))

        requester.node.stop()
        config = requester.node.config
        async with trio.open_nursery() as nursery:
            restarted: NodeHandle = await nursery.start(Node(config).run)
            assert restarted.node_id == requester.node_id
            again = Api(restarted.api_url)
            done = await again.wait_for(in_flight, timeout=30)
            assert done["Job"]["State"]["StateType"] == "Completed", done["Job"][
                "State"
            ]
            outputs = [
                e["RunOutput"] for e in done["Executions"]["Items"] if e["RunOutput"]
            ]
            assert outputs[0]["Stdout"] == "across the restart"
            kept = await again.job(finished)
            assert kept["Job"]["State"]["StateType"] == "Completed"
            restarted.node.stop()
