"""The synchronous client against `serve_api` + a fake backend on real sockets."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import pytest
import trio

import bacalao.client.api
from bacalao.api.app import serve_api
from bacalao.api.errors import ApiBindError
from bacalao.client.api import Client
from bacalao.client.errors import (
    ApiError,
    ClientError,
    ConnectError,
    NotFound,
    ResponseError,
    WaitTimeout,
)
from bacalao.models.api import GetJobResponse
from bacalao.models.job import Job
from bacalao.ports import free_port
from tests.api.fakes import FakeBackend, job_spec

T = TypeVar("T")


@dataclass
class Live:
    backend: FakeBackend
    client: Client
    port: int

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking client call in a worker thread, bounded to 10 s."""
        with trio.fail_after(10):
            return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))


@pytest.fixture
async def live(nursery: trio.Nursery) -> Live:
    backend = FakeBackend(auto_run=True)
    with trio.fail_after(5):
        port = await nursery.start(serve_api, backend, "127.0.0.1", 0)
    return Live(backend, Client("127.0.0.1", port, timeout=5), port)


async def test_serve_api_reports_the_bound_port(live: Live) -> None:
    assert live.port > 0
    assert (await live.run(live.client.alive)).is_ready


async def test_agent_calls(live: Live) -> None:
    assert (await live.run(live.client.version)).GitVersion == "v0.1.0"
    assert (await live.run(live.client.agent_node)).NodeID == live.backend.node_id


async def test_submit_and_wait_reports_each_change(live: Live) -> None:
    job = Job.model_validate(job_spec("noop", Stdout="hello\n"))
    submitted = await live.run(live.client.submit, job)
    assert submitted.Warnings == ["fake backend warning"]
    seen: list[GetJobResponse] = []
    final = await live.run(live.client.wait, submitted.JobID, 5, seen.append)
    assert final.Job.State.StateType.name == "Completed"
    assert [r.Job.State.StateType.name for r in seen] == [
        "Pending",
        "Running",
        "Completed",
    ]
    assert final.Executions is not None
    run_output = final.Executions.Items[0].RunOutput
    assert run_output is not None
    assert run_output.Stdout == "hello\n"


async def test_wait_returns_failed_jobs(live: Live) -> None:
    submitted = await live.run(live.client.submit, job_spec("noop", Fail="exit 3"))
    final = await live.run(live.client.wait, submitted.JobID, 5)
    assert final.Job.State.StateType.name == "Failed"
    assert final.Job.State.Message == "exit 3"


async def test_wait_times_out_with_the_state(live: Live) -> None:
    job = live.backend.add_job(State={"StateType": "Running"})
    with pytest.raises(WaitTimeout, match=r"still Running after 0\.3 s") as info:
        await live.run(live.client.wait, job.ID, 0.3)
    assert info.value.job_id == job.ID
    assert job.ID in info.value.hint


async def test_long_running_job_is_done_once_running(live: Live) -> None:
    job = live.backend.add_job(Type="daemon", Count=0, State={"StateType": "Running"})
    final = await live.run(live.client.wait, job.ID, 5)
    assert final.Job.ID == job.ID


async def test_reads(live: Live) -> None:
    backend, client = live.backend, live.client
    ids = [backend.add_job(Labels={"n": str(i)}).ID for i in range(3)]
    backend.add_execution(
        ids[0], PublishedResult={"Type": "ipfs", "Params": {"CID": "Qm"}}
    )
    backend.add_event(ids[0], "Job submitted")
    page = await live.run(client.list_jobs, limit=2)
    rest = await live.run(client.list_jobs, next_token=page.NextToken)
    assert [j.ID for j in page.Items + rest.Items] == ids
    labelled = await live.run(client.list_jobs, labels=["n in (1,2)", "n!=2"])
    assert [j.ID for j in labelled.Items] == [ids[1]]
    newest = await live.run(
        client.list_jobs, order_by="created_at", reverse=True, limit=1
    )
    assert ids[2] == newest.Items[0].ID
    full = await live.run(client.get_job, ids[0][:8], include=["history", "executions"])
    assert full.History is not None
    assert full.Executions is not None
    assert len((await live.run(client.executions, ids[0])).Items) == 1
    assert (
        (await live.run(client.history, ids[0], event_type="job"))
        .Items[0]
        .Event.Message
    )
    assert (await live.run(client.results, ids[0])).Items[0].Params == {"CID": "Qm"}


async def test_stop_sends_reason(live: Live) -> None:
    job = live.backend.add_job(State={"StateType": "Running"})
    assert (await live.run(live.client.stop, job.ID, "bye")).EvaluationID
    assert live.backend.stopped == [(job.ID, "bye")]


async def test_nodes(live: Live) -> None:
    nodes = await live.run(live.client.nodes, filter_status="connected", order_by="id")
    assert [n.Info.NodeID for n in nodes.Nodes] == [live.backend.node_id]
    node = await live.run(live.client.node, live.backend.node_id[:6])
    assert node.Node.Info.NodeID == live.backend.node_id


async def test_api_errors_carry_status_code_hint(live: Live) -> None:
    with pytest.raises(NotFound) as missing:
        await live.run(live.client.get_job, "j-none")
    assert (missing.value.status, missing.value.code) == (404, "NotFound")
    assert missing.value.message == "job not found: j-none"
    live.backend.add_job(ID="j-dup1")
    live.backend.add_job(ID="j-dup2")
    with pytest.raises(ApiError) as ambiguous:
        await live.run(live.client.get_job, "j-dup")
    assert ambiguous.value.code == "MultipleJobsFound"
    assert ambiguous.value.hint
    with pytest.raises(
        ApiError, match=r"Job.Tasks.0.Engine.Params.Image: Field required"
    ):
        await live.run(live.client.submit, job_spec("docker"))
    with pytest.raises(ApiError) as bad:
        await live.run(live.client.list_jobs, order_by="colour")
    assert bad.value.status == 400
    assert "'order_by'" in bad.value.message


async def test_path_segments_are_quoted(live: Live) -> None:
    with pytest.raises(NotFound, match="job not found: a/b c"):
        await live.run(live.client.get_job, "a/b c")


async def test_connection_refused_says_how_to_start_a_node() -> None:
    client = Client("127.0.0.1", free_port())
    with pytest.raises(ConnectError) as info:
        await trio.to_thread.run_sync(client.alive)
    message = str(info.value)
    assert message.startswith(f"no bacalao node at http://127.0.0.1:{client.port}")
    assert "bacalao serve" in message
    assert "bacalao devstack" in message


async def _raw_server(nursery: trio.Nursery, answer: bytes | None) -> int:
    """A TCP server that sends `answer` to every connection (None: never answers)."""

    async def handle(stream: trio.SocketStream) -> None:
        async with stream:
            await stream.receive_some(65536)
            if answer is None:
                await trio.sleep_forever()
            await stream.send_all(answer)

    listeners = await nursery.start(trio.serve_tcp, handle, 0)
    port: int = listeners[0].socket.getsockname()[1]
    return port


async def test_non_json_answers(nursery: trio.Nursery) -> None:
    body = b"abc"
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n" + body
    port = await _raw_server(nursery, ok)
    with pytest.raises(ResponseError, match="unexpected answer to /api/v1/agent/alive"):
        await trio.to_thread.run_sync(Client("127.0.0.1", port).alive)
    bad = (
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 8\r\n"
        b"Connection: close\r\n\r\nupstream"
    )
    port = await _raw_server(nursery, bad)
    with pytest.raises(ApiError, match="failed with HTTP 502: upstream") as info:
        await trio.to_thread.run_sync(Client("127.0.0.1", port).alive)
    assert info.value.status == 502


async def test_silent_server_times_out(nursery: trio.Nursery) -> None:
    port = await _raw_server(nursery, None)
    client = Client("127.0.0.1", port, timeout=0.2)
    with (
        trio.fail_after(5),
        pytest.raises(ConnectError, match=r"did not answer within 0\.2 s"),
    ):
        await trio.to_thread.run_sync(client.alive)


async def test_port_in_use_is_api_bind_error(live: Live) -> None:
    with (
        trio.fail_after(5),
        pytest.raises(ApiBindError, match="cannot serve the API on"),
    ):
        await serve_api(FakeBackend(), "127.0.0.1", live.port)


def test_exports_and_hierarchy() -> None:
    for name in bacalao.client.api.__all__:
        assert hasattr(bacalao.client.api, name)
    for kind in (ConnectError, ApiError, NotFound, ResponseError, WaitTimeout):
        assert issubclass(kind, ClientError)
    assert Client("::1", 5).base_url == "http://[::1]:5"


def test_importing_the_client_is_cheap() -> None:
    code = (
        "import sys, bacalao.client.api; "
        "heavy = ('pydantic', 'trio', 'libp2p', 'docker'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
