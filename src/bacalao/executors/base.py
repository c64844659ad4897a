"""The executor plugin interface: how a compute node runs one task.

An executor takes an `ExecutionRequest` (the job, its staged inputs, a folder
for its results, limits) and runs it to completion, writing into
`request.results_dir`:

    stdout, stderr     everything the task printed, written as it runs
                       (so `job logs -f` can follow them), capped at
                       `limits.log_bytes` each
    exitCode           the exit code as text
    <name>/            one folder per `ResultPath` (the output volumes)

and returns a `RunCommandResult` whose Stdout/Stderr hold at most
`limits.output_bytes` each, with the Truncated flags set when cut.

`run` must be cancellable: when its trio scope is cancelled the task is
killed within a second and every resource it held (container, thread,
temp folder) is released. Failures that are not the task's own doing
(image missing, engine down, bad module) raise `ExecutorError` with a
message a user can act on; a task that runs and exits non-zero is a
normal result with its exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..models.execution import RunCommandResult
from ..models.job import Job, Task
from ..models.resources import Resources
from ..storage.base import StagedInput

__all__ = [
    "EXIT_CODE",
    "STDERR",
    "STDOUT",
    "ExecutionRequest",
    "Executor",
    "OutputLimits",
    "StagedInput",
]

STDOUT = "stdout"
STDERR = "stderr"
EXIT_CODE = "exitCode"


@dataclass(frozen=True)
class OutputLimits:
    """How much of a task's output is kept."""

    output_bytes: int = 64 * 1024
    log_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class ExecutionRequest:
    """Everything an executor needs to run one execution."""

    execution_id: str
    job: Job
    results_dir: Path
    inputs: list[StagedInput] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)
    timeout: float | None = None
    limits: OutputLimits = field(default_factory=OutputLimits)

    @property
    def task(self) -> Task:
        return self.job.task


class Executor(Protocol):
    """An engine that runs tasks: `docker`, `wasm`, `noop`."""

    name: str

    async def check(self) -> str | None:
        """None when this engine can run tasks here, else why not."""
        ...

    def refuse(self, job: Job) -> str | None:
        """A reason this node will not run `job`'s task (for bidding), or None."""
        ...

    async def run(self, request: ExecutionRequest) -> RunCommandResult:
        """Run the task to completion (see the module docstring)."""
        ...

    async def cleanup(self) -> None:
        """Remove anything an earlier run of this node left behind."""
        ...

    async def aclose(self) -> None:
        """Release the engine's connections; called once when the node stops."""
        ...
