"""The results folder an executor fills (see `base` for the contract).

`prepare_results` creates the folder, empty `stdout`/`stderr` files and one
folder per output volume; `finish_results` writes `exitCode`, marks a log
file that was cut with a `stdout.truncated`/`stderr.truncated` file next to
it (saying where it was cut), and builds the capped `RunCommandResult`.
Both are blocking: call them in a worker thread.
`time_budget` reads a request's timeout the same way for every executor.

Output volumes: each `ResultPath` is the folder `results_dir/<Name>` shown
to the task at `Path`. `/outputs` is always there for the task, backed by
`results_dir/outputs`, unless a `ResultPath` already uses that path (a
`ResultPath` *named* "outputs" at another path shares the same folder).
"""

from __future__ import annotations

import math
import posixpath
from dataclasses import dataclass
from pathlib import Path

from ..models.execution import RunCommandResult
from .base import EXIT_CODE, STDERR, STDOUT, ExecutionRequest, OutputLimits
from .exceptions import ExecutorError
from .output import read_head

DEFAULT_OUTPUT = "outputs"
DEFAULT_OUTPUT_PATH = "/outputs"
TRUNCATED = ".truncated"
_RESERVED = {
    STDOUT,
    STDERR,
    EXIT_CODE,
    STDOUT + TRUNCATED,
    STDERR + TRUNCATED,
    ".",
    "..",
}


@dataclass(frozen=True)
class OutputVolume:
    """A writable folder of the results, shown to the task at `target`."""

    host_path: Path
    target: str


def output_volumes(request: ExecutionRequest) -> list[OutputVolume]:
    """The output volumes of `request`'s task (no I/O); ExecutorError if bad."""
    volumes = []
    for result in request.task.ResultPaths:
        _check_name(result.Name)
        target = _absolute(result.Path, result.Name)
        volumes.append(OutputVolume(request.results_dir / result.Name, target))
    if all(v.target != DEFAULT_OUTPUT_PATH for v in volumes):
        default = request.results_dir / DEFAULT_OUTPUT
        volumes.append(OutputVolume(default, DEFAULT_OUTPUT_PATH))
    return volumes


def _check_name(name: str) -> None:
    if "/" in name or "\\" in name or name in _RESERVED:
        raise ExecutorError(
            f"result path name {name!r} cannot be used as a folder name "
            f"(no '/', not one of {', '.join(sorted(_RESERVED))})"
        )


def _absolute(path: str, name: str) -> str:
    if not path.startswith("/"):
        raise ExecutorError(f"result path {name!r}: {path!r} must be an absolute path")
    return posixpath.normpath(path)


def prepare_results(request: ExecutionRequest) -> list[OutputVolume]:
    """Create the results folder and its output volumes; return the volumes."""
    volumes = output_volumes(request)
    request.results_dir.mkdir(parents=True, exist_ok=True)
    for name in (STDOUT, STDERR):
        (request.results_dir / name).write_bytes(b"")
        (request.results_dir / (name + TRUNCATED)).unlink(missing_ok=True)
    for volume in volumes:
        volume.host_path.mkdir(parents=True, exist_ok=True)
    return volumes


def finish_results(
    results_dir: Path,
    exit_code: int,
    limits: OutputLimits,
    *,
    logs_truncated: tuple[bool, bool] = (False, False),
) -> RunCommandResult:
    """Write `exitCode` and truncation marks; read back capped stdout and stderr."""
    (results_dir / EXIT_CODE).write_text(str(exit_code))
    for name, cut in zip((STDOUT, STDERR), logs_truncated, strict=True):
        if cut:
            (results_dir / (name + TRUNCATED)).write_text(
                f"{name} was cut after {limits.log_bytes} bytes: this node keeps "
                f"at most that much of each output stream of a task\n"
            )
    stdout, out_cut = read_head(results_dir / STDOUT, limits.output_bytes)
    stderr, err_cut = read_head(results_dir / STDERR, limits.output_bytes)
    return RunCommandResult(
        Stdout=stdout,
        StdoutTruncated=out_cut or logs_truncated[0],
        stderr=stderr,
        StderrTruncated=err_cut or logs_truncated[1],
        ExitCode=exit_code,
    )


def time_budget(timeout: float | None) -> float:
    """Seconds a task may run: `timeout`, or infinity when None or not positive."""
    if timeout is None or timeout <= 0:
        return math.inf
    return timeout
