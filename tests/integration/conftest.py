"""Fixtures of the integration tests: in-process swarms of real nodes.

Every node is real: libp2p hosts on 127.0.0.1 talking over TCP, SQLite
stores in the test's tmp dir, the HTTP API on a free port. Tests talk to
nodes the way users do, through the HTTP API (`Api`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import wasmtime

from bacalao.devstack import open_devstack
from bacalao.node import NodeHandle
from tests.needs import missing

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TERMINAL = ("Completed", "Failed", "Stopped")


class Api:
    """A node's HTTP API, called from trio through a worker thread."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await trio.to_thread.run_sync(self._call, method, path, body)

    def _call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else None
        if body is not None and data is None:
            data = json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=data,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    async def submit(self, job: dict[str, Any]) -> str:
        status, body = await self.call("PUT", "/api/v1/orchestrator/jobs", {"Job": job})
        assert status == 200, body
        job_id: str = body["JobID"]
        return job_id

    async def job(self, job_id: str) -> dict[str, Any]:
        status, body = await self.call(
            "GET", f"/api/v1/orchestrator/jobs/{job_id}?include=executions,history"
        )
        assert status == 200, body
        return dict(body)

    async def wait_for(
        self, job_id: str, states: tuple[str, ...] = TERMINAL, timeout: float = 30
    ) -> dict[str, Any]:
        """The job once its state is one of `states` (fails after `timeout`)."""
        with trio.fail_after(timeout):
            while True:
                status, body = await self.call(
                    "GET",
                    f"/api/v1/orchestrator/jobs/{job_id}?include=executions,history",
                )
                if status == 200 and body["Job"]["State"]["StateType"] in states:
                    return dict(body)
                await trio.sleep(0.02)


def stdout_of(described: dict[str, Any]) -> str:
    """The stdout of the job's completed execution."""
    done = [
        e
        for e in described["Executions"]["Items"]
        if e["ComputeState"]["StateType"] == 9
    ]
    assert done, described
    return str(done[0]["RunOutput"]["Stdout"])


Devstack = Callable[..., AbstractAsyncContextManager[list[NodeHandle]]]


@pytest.fixture
def devstack(tmp_path: Path) -> Devstack:
    """`async with devstack(3, **config) as nodes:` — real nodes in this process."""

    @asynccontextmanager
    async def make(count: int = 3, **overrides: Any) -> AsyncIterator[list[NodeHandle]]:
        overrides.setdefault("allow_noop", True)
        overrides.setdefault("node_timeout", 2.0)
        overrides.setdefault("heartbeat_interval", 0.25)
        async with open_devstack(count, tmp_path / "nodes", **overrides) as handles:
            yield handles

    return make


def apis(handles: list[NodeHandle]) -> list[Api]:
    return [Api(h.api_url) for h in handles]


@pytest.fixture(scope="session")
def hello_wasm() -> bytes:
    return wasmtime.wat2wasm((EXAMPLES / "wasm" / "hello.wat").read_text())


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip (or, under CI=true, fail) when no Docker engine with test images runs."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
        client.images.get("busybox:1.37.0")
        client.close()
    except Exception as exc:
        missing(f"no usable Docker engine ({exc}); run scripts/setup-docker.sh")
