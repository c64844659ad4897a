"""The `noop` executor: pretend to run a task, exactly as its spec says.

It is the test double of the executor kind (and a way to exercise a whole
network without Docker): `NoopEngineSpec` says how long to take, what to
print and how to exit, or which error to fail with. It fills the results
folder like any other executor and honours timeouts and cancellation.
"""

from __future__ import annotations

from functools import partial

import trio
from pydantic import ValidationError

from ..models.engines import NoopEngineSpec
from ..models.execution import RunCommandResult
from ..models.job import Job
from .base import STDERR, STDOUT, ExecutionRequest
from .exceptions import ExecutionTimeout, ExecutorError
from .guard import TaskGuard
from .output import CappedWriter
from .results import finish_results, prepare_results, time_budget


def noop_spec(job: Job) -> NoopEngineSpec:
    """The task's noop parameters; `ExecutorError` naming the bad field."""
    try:
        return NoopEngineSpec.model_validate(job.task.Engine.Params)
    except ValidationError as exc:
        raise ExecutorError(f"invalid noop engine spec: {exc}") from exc


class NoopExecutor:
    """Runs `noop` tasks: sleeps, prints and exits as told."""

    name = "noop"

    def __init__(self, *, guard: TaskGuard | None = None) -> None:
        self._guard = guard or TaskGuard()

    async def check(self) -> str | None:
        return None

    def refuse(self, job: Job) -> str | None:
        try:
            noop_spec(job)
        except ExecutorError as exc:
            return str(exc)
        return self._guard.refusal(job)

    async def run(self, request: ExecutionRequest) -> RunCommandResult:
        spec = noop_spec(request.job)
        await self._guard.check(request.job)
        await trio.to_thread.run_sync(prepare_results, request)
        truncated = await trio.to_thread.run_sync(_write_logs, request, spec)
        await _pretend(spec.Duration, time_budget(request.timeout))
        if spec.Fail:
            raise ExecutorError(spec.Fail)
        finish = partial(
            finish_results,
            request.results_dir,
            spec.ExitCode,
            request.limits,
            logs_truncated=truncated,
        )
        return await trio.to_thread.run_sync(finish)

    async def cleanup(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def _pretend(duration: float, budget: float) -> None:
    if duration > budget:
        await trio.sleep(budget)
        raise ExecutionTimeout(budget)
    await trio.sleep(duration)


def _write_logs(request: ExecutionRequest, spec: NoopEngineSpec) -> tuple[bool, bool]:
    cut = []
    for name, text in ((STDOUT, spec.Stdout), (STDERR, spec.Stderr)):
        with CappedWriter(request.results_dir / name, request.limits.log_bytes) as out:
            out.write(text.encode())
            cut.append(out.truncated)
    return cut[0], cut[1]
