"""Submit a job, follow it to its end, print what it printed.

The output follows Bacalhau's run commands: warnings first (stderr), then
`Job successfully submitted. Job ID: <id>`, one line per state change while
waiting, the final state, the task's output and how to see more. On a
terminal a status line under the changes spins and counts the seconds;
in a pipe only the plain lines appear. With `--id-only` only the ID is
printed; with `--wait=false` only the ID, at once; with `--follow` the
task's output streams live instead of the state lines. A job that ends
Failed or Stopped makes the command fail.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ..client.errors import WaitTimeout
from ..models.ids import short_node_id
from .errors import CliError, JobFailed
from .output import clock, short

if TYPE_CHECKING:
    from ..client.api import Client
    from ..models.api import GetJobResponse
    from ..models.execution import Execution
    from ..models.job import Job

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
CLEAR_LINE = "\r\x1b[K"


@dataclass(frozen=True)
class RunOptions:
    """The runtime flags of `job run`, `docker run` and `wasm run`."""

    wait: bool = True
    wait_timeout: float = 600
    id_only: bool = False
    follow: bool = False
    node_details: bool = False
    download: bool = False
    output_dir: Path | None = None
    hide_warnings: bool = False
    force: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RunOptions:
        names = cls.__dataclass_fields__
        values = {k: v for k, v in options.items() if k in names}
        if "wait_timeout_secs" in options:
            values["wait_timeout"] = options["wait_timeout_secs"]
        return cls(**values)


def is_terminal(stream: IO[Any] | None = None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


@dataclass
class ProgressPrinter:
    """Prints a line per change of the job's or an execution's state; on a
    terminal (`live`) also a status line that `poll` redraws in place."""

    live: bool = False
    seen: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    ticks: int = 0
    status: str = ""

    def __call__(self, response: GetJobResponse) -> None:
        now = clock(datetime.now())
        state = response.Job.State
        self._line(now, "job", state.StateType.name, state.Message)
        for execution in response.Executions.Items if response.Executions else []:
            name = execution.ComputeState.StateType.name
            where = f"on {short_node_id(execution.NodeID)}" if execution.NodeID else ""
            self._line(now, short(execution.ID), name, where)

    def _line(self, now: str, what: str, state: str, detail: str) -> None:
        if self.seen.get(what) == state:
            return
        self.seen[what] = state
        text = f"  {now}  {what:<12} {state}"
        self.clear()
        click.echo(f"{text}  {detail}" if detail else text)

    def poll(self, response: GetJobResponse) -> None:
        """Redraw the status line (terminal only): spinner, state, seconds."""
        if not self.live:
            return
        self.ticks += 1
        spin = SPINNER[self.ticks % len(SPINNER)]
        elapsed = time.monotonic() - self.started
        state = response.Job.State.StateType.name
        self.status = f"{spin} job is {state} ({elapsed:.0f}s)"
        click.echo(CLEAR_LINE + self.status, nl=False, color=True)

    def clear(self) -> None:
        if self.live and self.status:
            click.echo(CLEAR_LINE, nl=False, color=True)
            self.status = ""


def submit_and_wait(
    client: Client, job: Job, options: RunOptions, prog: str = "bacalao"
) -> None:
    """Submit `job` and follow it as the options say; `JobFailed` if it fails."""
    response = client.submit(job, force=options.force)
    if not options.hide_warnings:
        for warning in response.Warnings:
            click.echo(f"Warning: {warning}", err=True)
    job_id = response.JobID
    if options.id_only or not options.wait:
        click.echo(job_id)
        if not options.wait:
            return
    elif updated := _updated_to(client, job, job_id):
        click.echo(f"Job '{job.Name}' updated to version {updated}. Job ID: {job_id}")
    else:
        click.echo(f"Job successfully submitted. Job ID: {job_id}")
    if options.follow:
        final = _follow(client, job_id, options)
    else:
        if not options.id_only:
            click.echo(
                "Checking job status... (Enter Ctrl+C to exit at any time, "
                "your job will continue running):\n"
            )
        final = _wait(client, job_id, options)
    finish(client, final, options, prog)


def _updated_to(client: Client, job: Job, job_id: str) -> int:
    """The version a named job's submission made, if it updated the job (a
    spec under an existing name is that job's next version); 0 otherwise."""
    if not job.Name:
        return 0
    version = client.get_job(job_id).Job.Version
    return version if version > 1 else 0


def finish(
    client: Client, final: GetJobResponse, options: RunOptions, prog: str
) -> None:
    """What comes after the wait: outcome, node details, download, status."""
    if not options.id_only:
        print_outcome(final, prog, output=not options.follow)
    if options.node_details:
        print_node_details(final)
    if options.download and final.Job.State.StateType.name == "Completed":
        from .results import download_results

        download_results(client, final.Job.ID, options.output_dir)
    _check_success(final)


def _wait(client: Client, job_id: str, options: RunOptions) -> GetJobResponse:
    printer = None if options.id_only else ProgressPrinter(live=is_terminal())
    try:
        return client.wait(
            job_id,
            options.wait_timeout,
            printer,
            on_poll=printer.poll if printer else None,
        )
    except WaitTimeout as exc:
        raise CliError(
            f"{exc.message}; the job keeps running",
            f"check on it with `bacalao job describe {job_id}`",
        ) from None
    except KeyboardInterrupt:
        click.echo("\nProgress tracking canceled. The job is still running.", err=True)
        raise click.exceptions.Exit(130) from None
    finally:
        if printer is not None:
            printer.clear()


def _started(response: GetJobResponse) -> bool:
    executions = response.Executions.Items if response.Executions else []
    return response.Job.State.StateType.terminal or any(
        e.ComputeState.StateType >= 5 for e in executions
    )


def _follow(client: Client, job_id: str, options: RunOptions) -> GetJobResponse:
    from .logs import print_logs

    click.echo(
        "Waiting for logs... (Enter Ctrl+C to exit at any time, "
        "your job will continue running):\n"
    )
    try:
        client.wait(job_id, options.wait_timeout, until=_started)
        print_logs(client, job_id, follow=True)
        return client.wait(job_id, options.wait_timeout)
    except WaitTimeout as exc:
        raise CliError(
            f"{exc.message}; the job keeps running",
            f"check on it with `bacalao job describe {job_id}`",
        ) from None


def _executions(response: GetJobResponse) -> list[Execution]:
    """The executions of the job's current version (a job run again under
    its name keeps those of its earlier versions too)."""
    items = response.Executions.Items if response.Executions else []
    version = response.Job.Version
    return [e for e in items if e.JobVersion in (0, version)]


def _outputs(response: GetJobResponse) -> list[Execution]:
    return [e for e in _executions(response) if e.RunOutput is not None]


def print_outcome(response: GetJobResponse, prog: str, *, output: bool = True) -> None:
    """The final state, each execution's stdout (stderr to stderr), what next."""
    state = response.Job.State
    click.echo(
        f"\nJob {state.StateType.name}."
        + (f" {state.Message}" if state.Message else "")
    )
    executions = _outputs(response) if output else []
    for execution in executions:
        run = execution.RunOutput
        assert run is not None
        if len(executions) > 1:
            click.echo(
                f"\n--- {short(execution.ID)} on {short_node_id(execution.NodeID)} ---"
            )
        elif run.Stdout:
            click.echo("\nStandard Output:")
        if run.Stdout:
            click.echo(run.Stdout, nl=not run.Stdout.endswith("\n"))
        if run.StdoutTruncated:
            click.echo("... (output truncated)")
        if run.STDERR:
            click.echo(run.STDERR, nl=not run.STDERR.endswith("\n"), err=True)
    job_id = response.Job.ID
    click.echo("\nTo get more details about the run, execute:")
    click.echo(f"\t{prog} job describe {job_id}")
    click.echo("\nTo get more details about the run executions, execute:")
    click.echo(f"\t{prog} job executions {job_id}")
    if any(not e.PublishedResult.is_empty for e in _executions(response)):
        click.echo("\nTo download the results, execute:")
        click.echo(f"\t{prog} job get {job_id}")


def print_node_details(response: GetJobResponse) -> None:
    """`--node-details`: each execution's node, state, exit code and result."""
    click.echo("\nJob Results By Node:")
    for execution in sorted(_executions(response), key=lambda e: e.NodeID):
        state = execution.ComputeState
        click.echo(f"• Node {execution.NodeID}:")
        click.echo(f"    Execution: {execution.ID}")
        click.echo(
            f"    State:     {state.StateType.name}"
            + (f" ({state.Message})" if state.Message else "")
        )
        run = execution.RunOutput
        if run is not None:
            click.echo(f"    Exit code: {run.ExitCode}")
            first = run.Stdout.strip().splitlines()[:1]
            if first:
                click.echo(f"    Stdout:    {first[0]}")
        published = execution.PublishedResult
        if not published.is_empty:
            where = published.Params.get("URL") or published.Params
            click.echo(f"    Results:   {published.Type} {where}")


def _check_success(response: GetJobResponse) -> None:
    state = response.Job.State
    name = state.StateType.name
    if name not in ("Failed", "Stopped"):
        return
    reason = state.Message or _execution_reason(response) or "no reason given"
    raise JobFailed(f"job {response.Job.ID} {name.lower()}: {reason}")


def _execution_reason(response: GetJobResponse) -> str:
    for execution in _outputs(response) + _executions(response):
        output = execution.RunOutput
        if output is not None and output.ErrorMsg:
            return output.ErrorMsg
        if execution.ComputeState.Message:
            return execution.ComputeState.Message
    return ""


__all__ = [
    "ProgressPrinter",
    "RunOptions",
    "finish",
    "is_terminal",
    "print_node_details",
    "print_outcome",
    "submit_and_wait",
]
