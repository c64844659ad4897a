"""Fixtures of the example tests: a real in-process swarm and a user of it.

Each test runs one spec of examples/executors on a two-node swarm (real
libp2p, real Docker engine, real wasmtime) and checks what a user sees
through the HTTP API, with the same client the CLI uses: the job's state
and message (`job describe`), its output (`RunOutput`), its logs (`job
logs`) and its results folder (`job get`, from the published tar.gz).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import docker
import pytest
import trio
import yaml

from bacalao.client.api import Client
from bacalao.devstack import open_devstack
from bacalao.models.api import GetJobResponse
from bacalao.models.execution import Execution
from bacalao.node import NodeHandle
from tests.integration.conftest import docker_engine
from tests.web_server import outside_web_server

__all__ = ["docker_engine"]

SPECS = Path(__file__).resolve().parents[2] / "examples" / "executors"


def spec(name: str) -> dict[str, Any]:
    """The job spec examples/executors/NAME.yaml, as `job run` reads it."""
    loaded: dict[str, Any] = yaml.safe_load((SPECS / f"{name}.yaml").read_text())
    return loaded


class User:
    """Someone using the swarm through one node's HTTP API."""

    def __init__(self, handle: NodeHandle) -> None:
        host, _, port = handle.api_url.removeprefix("http://").rpartition(":")
        self.client = Client(host, int(port))

    async def run(self, job: dict[str, Any], timeout: float = 30) -> GetJobResponse:
        """Submit `job` and wait until it ends; `job describe` of it."""
        submitted = await trio.to_thread.run_sync(self.client.submit, job)
        return await self.wait(submitted.JobID, timeout)

    async def wait(
        self, job_id: str, timeout: float = 30, states: tuple[str, ...] = ()
    ) -> GetJobResponse:
        """The job once it ends (or reaches one of `states`)."""
        described = None
        with trio.move_on_after(timeout):
            while True:
                described = await self.describe(job_id)
                state = described.Job.State.StateType
                if state.terminal or state.name in states:
                    return described
                await trio.sleep(0.02)
        raise AssertionError(f"job still not done after {timeout} s: {described}")

    async def refused(
        self, job: dict[str, Any], timeout: float = 30
    ) -> tuple[str, str]:
        """Submit `job`, which no node will take; its state and message then.

        Depending on what the requester knows of the nodes, such a job
        fails at once or waits in the queue: either way its message says why.
        """
        submitted = await trio.to_thread.run_sync(self.client.submit, job)
        with trio.fail_after(timeout):
            while True:
                state = (await self.describe(submitted.JobID)).Job.State
                if state.Message.startswith("no node can run this job"):
                    return state.StateType.name, state.Message
                await trio.sleep(0.02)

    async def describe(self, job_id: str) -> GetJobResponse:
        include = ("executions", "history")
        return await trio.to_thread.run_sync(
            lambda: self.client.get_job(job_id, include=include)
        )

    async def logs(self, job_id: str, *, follow: bool = False) -> list[str]:
        lines = await trio.to_thread.run_sync(
            lambda: [log.Line for log in self.client.logs(job_id, follow=follow)]
        )
        return lines

    async def results(self, described: GetJobResponse) -> dict[str, bytes]:
        """The files of the results folder `job get` downloads, by name."""
        url = str(execution_of(described).PublishedResult.Params["URL"])
        return await trio.to_thread.run_sync(self._download, url)

    def _download(self, url: str) -> dict[str, bytes]:
        with self.client.open_download(url) as download:
            data = download.read()
        files = {}
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member)
                if handle is not None:
                    files[member.name.removeprefix("./")] = handle.read()
        return files


def execution_of(described: GetJobResponse) -> Execution:
    """The one execution of a Count=1 job that ran."""
    assert described.Executions is not None
    ran = [
        e for e in described.Executions.Items if e.RunOutput or e.ComputeState.Message
    ]
    assert ran, described
    return ran[-1]


def failure_of(described: GetJobResponse) -> str:
    """Why a failed job failed, as `job describe` says it.

    Its message is "execution on node <id> failed: <reason>": the reason.
    """
    state, message = state_of(described)
    assert state == "Failed", described
    prefix, sep, reason = message.partition(" failed: ")
    assert sep, message
    assert prefix.startswith("execution on node "), message
    assert execution_of(described).ComputeState.Message == reason
    return reason


def state_of(described: GetJobResponse) -> tuple[str, str]:
    """What `job describe` shows first: the job's state and message."""
    state = described.Job.State
    return state.StateType.name, state.Message


@pytest.fixture
def web_server(docker_engine: None) -> Iterator[str]:
    """The address of an HTTP server on Docker's default bridge."""
    client = docker.from_env()
    try:
        with outside_web_server(client) as address:
            yield address
    finally:
        client.close()


@pytest.fixture
def swarm(tmp_path: Path) -> Any:
    """`async with swarm(**config) as user:` a two-node swarm and its user."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[User]:
        overrides.setdefault("node_timeout", 2.0)
        overrides.setdefault("heartbeat_interval", 0.25)
        async with open_devstack(2, tmp_path / "nodes", **overrides) as handles:
            yield User(handles[0])

    return make
