"""One execution's work on a compute node: stage inputs, run, publish.

`run_execution` is the pipeline alone, with no bookkeeping: the compute
service holds the resources, reports states and handles cancellation.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import trio

from ..dataplane import DataPlane
from ..executors.base import ExecutionRequest, Executor, OutputLimits
from ..models.execution import Execution, RunCommandResult
from ..models.job import SpecConfig
from ..models.resources import Resources
from ..publishers.base import PublishRequest
from .settings import ComputeSettings


async def run_execution(
    execution: Execution,
    need: Resources,
    *,
    executors: dict[str, Executor],
    data: DataPlane,
    settings: ComputeSettings,
    node_id: str,
    on_staged: Callable[[], None] = lambda: None,
    on_publishing: Callable[[], None] = lambda: None,
) -> tuple[RunCommandResult, SpecConfig]:
    """Stage the inputs, run the task into its results folder, publish it;
    returns what the task printed and where its results were published.
    `on_staged` and `on_publishing` mark where the phases change."""
    job = execution.Job
    assert job is not None
    results = settings.repo / "executions" / execution.ID
    work = settings.repo / "work" / execution.ID
    await trio.to_thread.run_sync(lambda: results.mkdir(parents=True, exist_ok=True))
    try:
        inputs = await data.sources.stage(job.task.InputSources, work)
        on_staged()
        timeouts = job.task.Timeouts
        request = ExecutionRequest(
            execution_id=execution.ID,
            job=job,
            results_dir=results,
            inputs=inputs,
            resources=need,
            timeout=float(
                timeouts.ExecutionTimeout
                or timeouts.TotalTimeout
                or settings.default_execution_timeout
            ),
            limits=OutputLimits(
                output_bytes=settings.output_cap_bytes,
                log_bytes=settings.log_cap_bytes,
            ),
        )
        result = await executors[job.task.Engine.Type.lower()].run(request)
        on_publishing()
        published = await data.publishers.publish(
            PublishRequest(
                spec=job.task.Publisher,
                results_dir=results,
                scratch=work / "publish",
                execution_id=execution.ID,
                job_id=execution.JobID,
                node_id=node_id,
            )
        )
    finally:
        await trio.to_thread.run_sync(lambda: shutil.rmtree(work, ignore_errors=True))
    return result, published
