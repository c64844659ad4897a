"""Helpers shared by the executor tests (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from bacalao.executors.base import ExecutionRequest
from bacalao.models.job import Job

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "wasm"
TEST_IMAGE = "busybox:1.37.0"

MakeRequest = Callable[..., ExecutionRequest]


def make_job(engine: str, params: dict[str, Any], **task: Any) -> Job:
    """A one-task job for `engine`; `task` adds Task fields (Env, ResultPaths...)."""
    spec = {"Name": "main", "Engine": {"Type": engine, "Params": params}, **task}
    return Job.model_validate({"ID": "job-" + uuid.uuid4().hex[:8], "Tasks": [spec]})


def labelled(client: Any, key: str, value: str) -> list[Any]:
    """Containers (running or not) carrying label key=value."""
    found: list[Any] = client.containers.list(
        all=True, sparse=True, filters={"label": f"{key}={value}"}
    )
    return found


async def wait_until(predicate: Callable[[], bool], interval: float = 0.02) -> None:
    """Return once `predicate()` holds; callers bound it with `trio.fail_after`."""
    while True:
        if predicate():
            return
        await trio.sleep(interval)


def file_says(path: Path, text: str) -> Callable[[], bool]:
    """A predicate: `path` exists and holds exactly `text`."""
    return lambda: path.exists() and path.read_text() == text
