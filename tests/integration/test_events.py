"""The event stream across a swarm: a job placed by node A, watched on B."""

from __future__ import annotations

from functools import partial
from typing import Any

import trio

from bacalao.client.api import Client
from bacalao.client.events import ServerEvent

from .conftest import Devstack, apis
from .test_jobs import noop_job


def reading(url: str, job_id: str, into: trio.MemorySendChannel[ServerEvent]) -> Any:
    """A task reading `url`'s event stream (in a worker thread) into `into`."""

    def read() -> None:
        for event in Client.from_url(url).events(job_id):
            trio.from_thread.run(into.send, event)

    return partial(trio.to_thread.run_sync, read, abandon_on_cancel=True)


async def test_a_job_submitted_on_one_node_streams_on_another(
    devstack: Devstack,
) -> None:
    async with devstack(3) as nodes:
        first, second, _ = apis(nodes)
        send, events = trio.open_memory_channel[ServerEvent](100)
        everything = trio.open_memory_channel[ServerEvent](100)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(reading(nodes[1].api_url, "", everything[0]))
            with trio.fail_after(10):
                while not nodes[1].node.events.subscribers:
                    await trio.sleep(0.01)
            job_id = await first.submit(noop_job(Stdout="hi"))
            await second.wait_for(job_id, ("Pending", "Queued", "Running", "Completed"))
            nursery.start_soon(reading(nodes[1].api_url, job_id, send))
            states: list[str] = []
            revisions: list[int] = []
            data: dict[str, Any] = {}
            with trio.fail_after(30):
                while not states or states[-1] != "Completed":
                    event = await events.receive()
                    assert event.event == "job"
                    data = event.json()
                    assert data["Job"]["ID"] == job_id
                    states.append(data["Job"]["State"]["StateType"])
                    revisions.append(int(event.id))
            assert revisions == sorted(set(revisions))
            assert data["Executions"]
            assert all(e["JobID"] == job_id for e in data["Executions"])
            with trio.fail_after(30):  # the unfiltered stream saw it end too
                while True:
                    event = await everything[1].receive()
                    if event.event != "job" or event.json()["Job"]["ID"] != job_id:
                        continue
                    assert "Executions" not in event.json()
                    if event.json()["Job"]["State"]["StateType"] == "Completed":
                        break
            nodes[1].node.stop()  # the streams end with the node


async def test_a_compute_only_node_streams_the_jobs_it_pulls(
    devstack: Devstack,
) -> None:
    async with devstack(2, per_node={1: {"orchestrator": False}}) as nodes:
        first, _ = apis(nodes)
        send, events = trio.open_memory_channel[ServerEvent](100)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(reading(nodes[1].api_url, "", send))
            with trio.fail_after(10):
                while not nodes[1].node.events.subscribers:
                    await trio.sleep(0.01)
            job_id = await first.submit(noop_job(Stdout="hi"))
            with trio.fail_after(30):
                while True:
                    event = await events.receive()
                    job = event.json()["Job"] if event.event == "job" else {}
                    if job.get("ID") == job_id and job["State"]["StateType"] == (
                        "Completed"
                    ):
                        break
            nodes[1].node.stop()
