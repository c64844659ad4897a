"""Submit a job, follow it to its end, print what it printed.

The output follows Bacalhau's run commands: warnings first (stderr), then
`Job successfully submitted. Job ID: <id>`, one line per state change while
waiting, the final state, the task's output and how to see more. On a
terminal a status line under the changes spins and counts the seconds;
in a pipe only the plain lines appear. With `--id-only` only the ID is
printed; with `--wait=false` only the ID, at once; with `--follow` the
task's output streams live instead of the state lines. A job that ends
Failed or Stopped makes the command fail.

The wait is on the node's event stream (`client.waiting`), and everything
here reads the job as plain JSON (`{"Job": ..., "Executions": [...]}`), so
a run command imports no models unless it builds them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from ..client.errors import ApiError, ConnectError, WaitTimeout
from ..client.waiting import (
    Update,
    execution_state,
    job_state,
    submit_spec,
    wait_for_job,
)
from ..models.ids import short_node_id
from .errors import CliError, JobFailed
from .output import clock, short

if TYPE_CHECKING:
    from ..client.api import Client
    from ..models.job import Job

Execution = dict[str, Any]

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

    def __call__(self, update: Update) -> None:
        now = clock(datetime.now())
        self._line(now, "job", job_state(update), _message(update["Job"]))
        for execution in _executions(update):
            node = execution.get("NodeID", "")
            where = f"on {short_node_id(node)}" if node else ""
            self._line(now, short(execution["ID"]), execution_state(execution), where)

    def _line(self, now: str, what: str, state: str, detail: str) -> None:
        if self.seen.get(what) == state:
            return
        self.seen[what] = state
        text = f"  {now}  {what:<12} {state}"
        self.clear()
        click.echo(f"{text}  {detail}" if detail else text)

    def poll(self, update: Update) -> None:
        """Redraw the status line (terminal only): spinner, state, seconds."""
        if not self.live:
            return
        self.ticks += 1
        spin = SPINNER[self.ticks % len(SPINNER)]
        elapsed = time.monotonic() - self.started
        self.status = f"{spin} job is {job_state(update)} ({elapsed:.0f}s)"
        click.echo(CLEAR_LINE + self.status, nl=False, color=True)

    def clear(self) -> None:
        if self.live and self.status:
            click.echo(CLEAR_LINE, nl=False, color=True)
            self.status = ""


def submit_and_wait(
    client: Client,
    job: Job | dict[str, Any],
    options: RunOptions,
    prog: str = "bacalao",
    explain: Callable[[], object] | None = None,
) -> None:
    """Submit `job` (a Job, or a spec as plain data) and follow it as the
    options say; `JobFailed` if it fails. If the node refuses the spec (or
    cannot be reached), `explain()` may raise a clearer error first (one
    naming the flag at fault)."""
    spec = job if isinstance(job, dict) else job.model_dump(mode="json")
    try:
        response = submit_spec(client, spec, force=options.force)
    except (ApiError, ConnectError) as exc:
        if explain is not None and (exc.status == 400 or isinstance(exc, ConnectError)):
            explain()
        raise
    if not options.hide_warnings:
        for warning in response.get("Warnings") or []:
            click.echo(f"Warning: {warning}", err=True)
    job_id = str(response["JobID"])
    if options.id_only or not options.wait:
        click.echo(job_id)
        if not options.wait:
            return
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


def finish(client: Client, final: Update, options: RunOptions, prog: str) -> None:
    """What comes after the wait: outcome, node details, download, status."""
    if not options.id_only:
        print_outcome(final, prog, output=not options.follow)
    if options.node_details:
        print_node_details(final)
    if options.download and job_state(final) == "Completed":
        from .results import download_results

        download_results(client, final["Job"]["ID"], options.output_dir)
    _check_success(final)


def _wait(client: Client, job_id: str, options: RunOptions) -> Update:
    printer = None if options.id_only else ProgressPrinter(live=is_terminal())

    def on_change(update: Update) -> None:
        if printer is not None:
            printer(update)
            printer.poll(update)

    try:
        return wait_for_job(client, job_id, options.wait_timeout, on_change=on_change)
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


def _started(update: Update) -> bool:
    return job_state(update) in ("Completed", "Failed", "Stopped") or any(
        e.get("ComputeState", {}).get("StateType", 0) >= 5 for e in _executions(update)
    )


def _follow(client: Client, job_id: str, options: RunOptions) -> Update:
    from .logs import print_logs

    click.echo(
        "Waiting for logs... (Enter Ctrl+C to exit at any time, "
        "your job will continue running):\n"
    )
    try:
        wait_for_job(client, job_id, options.wait_timeout, until=_started)
        print_logs(client, job_id, follow=True)
        return wait_for_job(client, job_id, options.wait_timeout)
    except WaitTimeout as exc:
        raise CliError(
            f"{exc.message}; the job keeps running",
            f"check on it with `bacalao job describe {job_id}`",
        ) from None


def _executions(update: Update) -> list[Execution]:
    return list(update.get("Executions") or [])


def _outputs(update: Update) -> list[Execution]:
    return [e for e in _executions(update) if e.get("RunOutput")]


def _message(item: dict[str, Any]) -> str:
    state = item.get("State") or item.get("ComputeState") or {}
    return str(state.get("Message") or "")


def _published(execution: Execution) -> dict[str, Any]:
    return execution.get("PublishedResult") or {}


def print_outcome(update: Update, prog: str, *, output: bool = True) -> None:
    """The final state, each execution's stdout (stderr to stderr), what next."""
    message = _message(update["Job"])
    click.echo(f"\nJob {job_state(update)}." + (f" {message}" if message else ""))
    executions = _outputs(update) if output else []
    for execution in executions:
        run = execution["RunOutput"]
        stdout, stderr = run.get("Stdout", ""), run.get("stderr", "")
        if len(executions) > 1:
            node = short_node_id(execution.get("NodeID", ""))
            click.echo(f"\n--- {short(execution['ID'])} on {node} ---")
        elif stdout:
            click.echo("\nStandard Output:")
        if stdout:
            click.echo(stdout, nl=not stdout.endswith("\n"))
        if run.get("StdoutTruncated"):
            click.echo("... (output truncated)")
        if stderr:
            click.echo(stderr, nl=not stderr.endswith("\n"), err=True)
    job_id = update["Job"]["ID"]
    click.echo("\nTo get more details about the run, execute:")
    click.echo(f"\t{prog} job describe {job_id}")
    click.echo("\nTo get more details about the run executions, execute:")
    click.echo(f"\t{prog} job executions {job_id}")
    if any(_published(e).get("Type") for e in _executions(update)):
        click.echo("\nTo download the results, execute:")
        click.echo(f"\t{prog} job get {job_id}")


def print_node_details(update: Update) -> None:
    """`--node-details`: each execution's node, state, exit code and result."""
    click.echo("\nJob Results By Node:")
    for execution in sorted(_executions(update), key=lambda e: e.get("NodeID", "")):
        message = _message(execution)
        click.echo(f"• Node {execution.get('NodeID', '')}:")
        click.echo(f"    Execution: {execution['ID']}")
        click.echo(
            f"    State:     {execution_state(execution)}"
            + (f" ({message})" if message else "")
        )
        run = execution.get("RunOutput")
        if run:
            click.echo(f"    Exit code: {run.get('ExitCode', 0)}")
            first = str(run.get("Stdout", "")).strip().splitlines()[:1]
            if first:
                click.echo(f"    Stdout:    {first[0]}")
        published = _published(execution)
        if published.get("Type"):
            params = published.get("Params") or {}
            where = params.get("URL") or params
            click.echo(f"    Results:   {published['Type']} {where}")


def _check_success(update: Update) -> None:
    name = job_state(update)
    if name not in ("Failed", "Stopped"):
        return
    reason = _message(update["Job"]) or _execution_reason(update) or "no reason given"
    raise JobFailed(f"job {update['Job']['ID']} {name.lower()}: {reason}")


def _execution_reason(update: Update) -> str:
    for execution in _outputs(update) + _executions(update):
        output = execution.get("RunOutput") or {}
        if output.get("ErrorMsg"):
            return str(output["ErrorMsg"])
        if _message(execution):
            return _message(execution)
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
