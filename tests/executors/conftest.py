"""Fixtures of the executor tests: jobs, requests, a Docker engine, modules.

Docker tests use the `docker_client` fixture: it skips them when no engine
answers, except under `CI=true`, where a missing engine fails them (run
`scripts/setup-docker.sh` first).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from bacalao.executors.base import ExecutionRequest, OutputLimits, StagedInput
from bacalao.executors.config import DockerConfig
from bacalao.executors.docker import DockerExecutor
from bacalao.executors.docker_engine import connect
from bacalao.models.resources import Resources
from tests.needs import missing

from .support import EXAMPLES, TEST_IMAGE, MakeRequest, make_job


@pytest.fixture
def make_request(tmp_path: Path) -> MakeRequest:
    """Build an `ExecutionRequest` with a fresh id and results folder."""
    counter = itertools.count()

    def make(
        engine: str,
        params: dict[str, Any],
        *,
        inputs: list[StagedInput] | None = None,
        resources: Resources | None = None,
        timeout: float | None = None,
        limits: OutputLimits | None = None,
        **task: Any,
    ) -> ExecutionRequest:
        execution_id = f"e-{next(counter)}-{uuid.uuid4().hex[:8]}"
        return ExecutionRequest(
            execution_id=execution_id,
            job=make_job(engine, params, **task),
            results_dir=tmp_path / "results" / execution_id,
            inputs=inputs or [],
            resources=resources or Resources(),
            timeout=timeout,
            limits=limits or OutputLimits(),
        )

    return make


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A docker SDK client to a live engine (skip, or fail under CI=true)."""
    client: Any = None
    try:
        client = connect()
        client.ping()
        client.images.get(TEST_IMAGE)
    except Exception as exc:
        if client is not None:
            client.close()
        missing(f"no usable Docker engine ({exc}); run scripts/setup-docker.sh")
    yield client
    client.close()


@pytest.fixture
async def docker_executor(docker_client: Any) -> AsyncIterator[DockerExecutor]:
    """A docker executor with a node id of its own; cleans up after the test."""
    executor = DockerExecutor(DockerConfig(), node_id="test-" + uuid.uuid4().hex[:8])
    yield executor
    await executor.cleanup()
    await executor.aclose()


@pytest.fixture(scope="session")
def wasm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/wasm/*.wat compiled once per session."""
    out = tmp_path_factory.mktemp("wasm")
    for source in EXAMPLES.glob("*.wat"):
        (out / f"{source.stem}.wasm").write_bytes(wasmtime.wat2wasm(source.read_text()))
    return out


@pytest.fixture
def wasm_input(wasm_dir: Path) -> Callable[[str], StagedInput]:
    """A staged input holding example module NAME at /app/NAME.wasm."""

    def make(name: str) -> StagedInput:
        return StagedInput(wasm_dir / f"{name}.wasm", f"/app/{name}.wasm")

    return make
