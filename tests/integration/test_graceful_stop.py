"""`Node.stop(grace)`: a stopping node answers the requests it already has,
refuses new ones with 503, bids on nothing, and is gone by its deadline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from bacalao.devstack import node_config
from bacalao.node import Node, NodeHandle
from tests.slow_request import put_head, status_of, submission

from .conftest import Api

JOB = {
    "Type": "batch",
    "Count": 1,
    "Tasks": [{"Name": "main", "Engine": {"Type": "noop"}}],
}


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[NodeHandle, trio.Event]]:
    """One node (noop engine) and an event set once its `run` has returned."""
    config = node_config(tmp_path / "node", 0, 0, [], allow_noop=True)
    stopped = trio.Event()

    async def run(*, task_status: trio.TaskStatus[NodeHandle]) -> None:
        await Node(config).run(task_status=task_status)
        stopped.set()

    async with trio.open_nursery() as nursery:
        handle: NodeHandle = await nursery.start(run)
        yield handle, stopped
        nursery.cancel_scope.cancel()


async def half_sent(handle: NodeHandle, body: bytes) -> trio.SocketStream:
    """A job submission whose body is half sent, in flight on the node."""
    stream = await trio.open_tcp_stream("127.0.0.1", handle.api_port)
    await stream.send_all(put_head("127.0.0.1", handle.api_port, body))
    await stream.send_all(body[: len(body) // 2])
    node = handle.node
    with trio.fail_after(10):
        while node.requests.in_flight == 0:
            await trio.sleep(0.01)
    return stream


async def answer(stream: trio.SocketStream) -> bytes:
    chunks = []
    while chunk := await stream.receive_some():
        chunks.append(chunk)
    return b"".join(chunks)


async def test_a_request_in_flight_is_answered_and_a_new_one_refused(
    running: tuple[NodeHandle, trio.Event],
) -> None:
    handle, stopped = running
    body = submission(JOB)
    stream = await half_sent(handle, body)
    handle.node.stop(grace=20)
    status, refusal = await Api(handle.api_url).call("GET", "/api/v1/agent/alive")
    assert status == 503
    assert refusal["Message"] == "node is shutting down"
    assert not stopped.is_set()
    await stream.send_all(body[len(body) // 2 :])
    with trio.fail_after(15):
        raw = await answer(stream)
        assert status_of(raw) == 200
        assert json.loads(raw.split(b"\r\n\r\n", 1)[1])["JobID"].startswith("j-")
        await stopped.wait()  # well before the deadline: nothing is left to do


async def test_a_stopping_compute_node_bids_on_nothing(
    running: tuple[NodeHandle, trio.Event],
) -> None:
    handle, _ = running
    stream = await half_sent(handle, submission(JOB))  # keeps the node up
    handle.node.stop(grace=20)
    compute = handle.node.compute
    assert compute is not None
    assert compute.capacity.snapshot().closed
    await stream.aclose()


async def test_the_node_is_gone_at_the_deadline_whatever_still_runs(
    running: tuple[NodeHandle, trio.Event],
) -> None:
    handle, stopped = running
    stream = await half_sent(handle, submission(JOB))  # never finished
    started = trio.current_time()
    handle.node.stop(grace=1)
    with trio.fail_after(10):
        await stopped.wait()
    assert trio.current_time() - started >= 1
    with trio.fail_after(5):
        await answer(stream)  # the connection is closed, answered or not
