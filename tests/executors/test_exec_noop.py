"""The noop executor: pretends to run, as its spec says."""

from __future__ import annotations

import time

import pytest
import trio

from bacalao.executors.exceptions import ExecutionTimeout, ExecutorError
from bacalao.executors.noop import NoopExecutor

from .support import MakeRequest, make_job


async def test_prints_and_exits_as_told(make_request: MakeRequest):
    spec = {"Stdout": "out\n", "Stderr": "err\n", "ExitCode": 7, "Duration": 0.05}
    request = make_request("noop", spec, ResultPaths=[{"Name": "r", "Path": "/r"}])
    started = time.monotonic()
    with trio.fail_after(5):
        result = await NoopExecutor().run(request)
    assert time.monotonic() - started >= 0.05
    assert (result.Stdout, result.STDERR, result.ExitCode) == ("out\n", "err\n", 7)
    assert (request.results_dir / "exitCode").read_text() == "7"
    assert (request.results_dir / "stdout").read_text() == "out\n"
    assert (request.results_dir / "r").is_dir()
    assert (request.results_dir / "outputs").is_dir()


async def test_fail_raises_its_message(make_request: MakeRequest):
    request = make_request("noop", {"Fail": "disk on fire"})
    with trio.fail_after(5), pytest.raises(ExecutorError, match=r"^disk on fire$"):
        await NoopExecutor().run(request)


async def test_timeout(make_request: MakeRequest):
    request = make_request("noop", {"Duration": 60}, timeout=0.1)
    with trio.fail_after(5), pytest.raises(ExecutionTimeout):
        await NoopExecutor().run(request)


async def test_cancellable(make_request: MakeRequest):
    request = make_request("noop", {"Duration": 60})
    with trio.fail_after(5), trio.move_on_after(0.1) as scope:
        await NoopExecutor().run(request)
    assert scope.cancelled_caught


def test_refuses_a_bad_spec():
    executor = NoopExecutor()
    assert executor.refuse(make_job("noop", {"Duration": 1})) is None
    reason = executor.refuse(make_job("noop", {"Duration": -1}))
    assert reason is not None
    assert reason.startswith("invalid noop engine spec")
