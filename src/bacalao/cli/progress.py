"""Submit a job, follow it to its end, print what it printed.

The output follows Bacalhau's run commands: warnings first (stderr), then
`Job successfully submitted. Job ID: <id>`, one line per state change while
waiting, the final state, the task's output and how to see more. With
`--id-only` only the ID is printed; with `--wait=false` only the ID, at
once. A job that ends Failed or Stopped makes the command fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import click

from ..client_errors import WaitTimeout
from ..models.ids import short_node_id
from .errors import CliError, JobFailed
from .output import clock, short

if TYPE_CHECKING:
    from ..client import Client
    from ..models.api import GetJobResponse
    from ..models.execution import Execution
    from ..models.job import Job


@dataclass(frozen=True)
class RunOptions:
    """The runtime flags: wait or not, for how long, print only the ID."""

    wait: bool = True
    wait_timeout: float = 600
    id_only: bool = False


@dataclass
class ProgressPrinter:
    """Prints a line for each change of the job's or an execution's state."""

    seen: dict[str, str] = field(default_factory=dict)

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
        click.echo(f"{text}  {detail}" if detail else text)


def submit_and_wait(
    client: Client, job: Job, options: RunOptions, prog: str = "bacalao"
) -> None:
    """Submit `job` and follow it as the options say; `JobFailed` if it fails."""
    response = client.submit(job)
    for warning in response.Warnings:
        click.echo(f"Warning: {warning}", err=True)
    job_id = response.JobID
    if options.id_only or not options.wait:
        click.echo(job_id)
        if not options.wait:
            return
    else:
        click.echo(f"Job successfully submitted. Job ID: {job_id}")
        click.echo(
            "Checking job status... (Enter Ctrl+C to exit at any time, "
            "your job will continue running):\n"
        )
    final = _wait(client, job_id, options)
    if not options.id_only:
        print_outcome(final, prog)
    _check_success(final)


def _wait(client: Client, job_id: str, options: RunOptions) -> GetJobResponse:
    printer = None if options.id_only else ProgressPrinter()
    try:
        return client.wait(job_id, options.wait_timeout, printer)
    except WaitTimeout as exc:
        raise CliError(
            f"{exc.message}; the job keeps running",
            f"check on it with `bacalao job describe {job_id}`",
        ) from None
    except KeyboardInterrupt:
        click.echo("\nProgress tracking canceled. The job is still running.", err=True)
        raise click.exceptions.Exit(130) from None


def _outputs(response: GetJobResponse) -> list[Execution]:
    items = response.Executions.Items if response.Executions else []
    return [e for e in items if e.RunOutput is not None]


def print_outcome(response: GetJobResponse, prog: str) -> None:
    """The final state, each execution's stdout (stderr to stderr), what next."""
    state = response.Job.State
    click.echo(
        f"\nJob {state.StateType.name}."
        + (f" {state.Message}" if state.Message else "")
    )
    executions = _outputs(response)
    for execution in executions:
        output = execution.RunOutput
        assert output is not None
        if len(executions) > 1:
            click.echo(
                f"\n--- {short(execution.ID)} on {short_node_id(execution.NodeID)} ---"
            )
        elif output.Stdout:
            click.echo("\nStandard Output:")
        if output.Stdout:
            click.echo(output.Stdout, nl=not output.Stdout.endswith("\n"))
        if output.StdoutTruncated:
            click.echo("... (output truncated)")
        if output.STDERR:
            click.echo(output.STDERR, nl=not output.STDERR.endswith("\n"), err=True)
    click.echo("\nTo get more details about the run, execute:")
    click.echo(f"\t{prog} job describe {response.Job.ID}")


def _check_success(response: GetJobResponse) -> None:
    state = response.Job.State
    name = state.StateType.name
    if name not in ("Failed", "Stopped"):
        return
    reason = state.Message or _execution_reason(response) or "no reason given"
    raise JobFailed(f"job {response.Job.ID} {name.lower()}: {reason}")


def _execution_reason(response: GetJobResponse) -> str:
    for execution in _outputs(response) + list(
        response.Executions.Items if response.Executions else []
    ):
        output = execution.RunOutput
        if output is not None and output.ErrorMsg:
            return output.ErrorMsg
        if execution.ComputeState.Message:
            return execution.ComputeState.Message
    return ""


__all__ = ["ProgressPrinter", "RunOptions", "print_outcome", "submit_and_wait"]
