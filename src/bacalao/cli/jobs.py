"""`bacalao job ...`: run, list, describe, executions, history, logs, get, stop,
versions, rerun.

A job is named by its ID, a unique ID prefix or its name, everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import api_options, client_for
from .job_run import run
from .logs import logs
from .output import View, view_options
from .results import get
from .versions import rerun, versions

if TYPE_CHECKING:
    from ..client.api import Client
    from ..models.api import ListJobsResponse

ALL_PAGE = 1000


@click.group()
def job() -> None:
    """Run, inspect and manage jobs."""


def fetch_jobs(
    client: Client,
    *,
    limit: int,
    everything: bool,
    next_token: str = "",
    **query: object,
) -> ListJobsResponse:
    """One page of jobs, or (`everything`) all pages joined into one."""
    page = client.list_jobs(
        limit=ALL_PAGE if everything else limit,
        next_token=next_token or None,
        **query,  # type: ignore[arg-type]
    )
    while everything and page.NextToken:
        more = client.list_jobs(next_token=page.NextToken)
        page = more.model_copy(update={"Items": page.Items + more.Items})
    return page


@job.command(
    "list",
    epilog="""\b
Examples:
  bacalao job list
  bacalao job list --labels 'team=ml' --limit 20 --order-by created_at --reverse
  bacalao job list --all --output json""",
)
@click.option(
    "--limit", type=click.IntRange(0, 2**32 - 1), default=10, show_default=True
)
@click.option("--next-token", default="", help="Token from the previous page.")
@click.option("--order-by", default="", help="created_at, modified_at, id or state.")
@click.option(
    "--reverse", "--order-reversed", "reverse", is_flag=True, help="Newest first."
)
@click.option("--all", "everything", is_flag=True, help="Every job, all pages.")
@click.option(
    "--labels", default="", metavar="SELECTOR", help="e.g. 'env=prod,tier in (1,2)'."
)
@click.option("--namespace", default="", help="Only this namespace (default: all).")
@view_options(tabular=True)
@api_options
@click.pass_context
def list_jobs(
    ctx: click.Context,
    limit: int,
    next_token: str,
    order_by: str,
    reverse: bool,
    everything: bool,
    labels: str,
    namespace: str,
    view: View,
) -> None:
    """List jobs, oldest first (one page of --limit, or --all)."""
    from .describe import JOB_COLUMNS, job_row

    page = fetch_jobs(
        client_for(ctx),
        limit=limit,
        everything=everything,
        next_token=next_token,
        namespace=namespace or None,
        order_by=order_by or None,
        reverse=reverse,
        labels=labels or None,
    )
    view.echo_list(
        page.Items, JOB_COLUMNS, lambda v: [job_row(j, v) for j in page.Items]
    )
    if page.NextToken:
        prog = ctx.find_root().info_name or "bacalao"
        click.echo("\nTo fetch more records use:", err=True)
        click.echo(
            f"\t{prog} job list --limit {limit} --next-token {page.NextToken}",
            err=True,
        )


@job.command(
    "describe",
    epilog="""\b
Examples:
  bacalao job describe j-5f0e3b2a
  bacalao job describe my-job-name --output yaml""",
)
@click.argument("job_id", metavar="ID")
@view_options()
@api_options
@click.pass_context
def describe(ctx: click.Context, job_id: str, view: View) -> None:
    """Show a job: state, history, executions, output."""
    from .describe import describe_text

    response = client_for(ctx).get_job(job_id, include=("executions", "history"))
    view.echo(response, lambda: describe_text(response, view))


@job.command(
    "executions",
    epilog="""\b
Examples:
  bacalao job executions j-5f0e3b2a
  bacalao job executions j-5f0e3b2a --order-by modified_at --reverse --wide""",
)
@click.argument("job_id", metavar="ID")
@click.option(
    "--limit", type=click.IntRange(0, 2**32 - 1), default=20, show_default=True
)
@click.option("--next-token", default="", help="Token from the previous page.")
@click.option("--order-by", default="", help="created_at, modified_at or id.")
@click.option("--reverse", "--order-reversed", "reverse", is_flag=True)
@view_options(tabular=True)
@api_options
@click.pass_context
def executions(
    ctx: click.Context,
    job_id: str,
    limit: int,
    next_token: str,
    order_by: str,
    reverse: bool,
    view: View,
) -> None:
    """List a job's executions: where they ran and how they ended."""
    from .describe import EXECUTION_COLUMNS, execution_row

    page = client_for(ctx).executions(
        job_id,
        limit=limit,
        next_token=next_token or None,
        order_by=order_by or None,
        reverse=reverse,
    )
    view.echo_list(
        page.Items,
        EXECUTION_COLUMNS,
        lambda v: [execution_row(e, v) for e in page.Items],
    )


@job.command(
    "history",
    epilog="""\b
Examples:
  bacalao job history j-5f0e3b2a
  bacalao job history --event-type job j-5f0e3b2a
  bacalao job history --event-type execution --execution-id e-8a1c j-5f0e3b2a""",
)
@click.argument("job_id", metavar="ID")
@click.option(
    "--event-type",
    type=click.Choice(["all", "job", "execution"]),
    default="all",
    show_default=True,
)
@click.option("--execution-id", default="", help="Only this execution (or prefix).")
@click.option("--node-id", default="", help="Only events of this node (or prefix).")
@click.option("--limit", type=click.IntRange(0, 2**32 - 1), default=0, help="0: all.")
@click.option("--next-token", default="", help="Token from the previous page.")
@view_options(tabular=True)
@api_options
@click.pass_context
def history(
    ctx: click.Context,
    job_id: str,
    event_type: str,
    execution_id: str,
    node_id: str,
    limit: int,
    next_token: str,
    view: View,
) -> None:
    """List what happened to a job and its executions, oldest first."""
    from .describe import HISTORY_COLUMNS, history_row

    page = client_for(ctx).history(
        job_id,
        event_type=event_type,
        execution_id=execution_id or None,
        node_id=node_id or None,
        limit=limit or None,
        next_token=next_token or None,
    )
    view.echo_list(
        page.Items, HISTORY_COLUMNS, lambda v: [history_row(h, v) for h in page.Items]
    )


@job.command(
    "stop",
    epilog="""\b
Examples:
  bacalao job stop j-5f0e3b2a
  bacalao job stop j-5f0e3b2a --reason 'wrong input' --quiet""",
)
@click.argument("job_id", metavar="ID")
@click.option("--reason", default="stopped by user", show_default=True)
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
@api_options
@click.pass_context
def stop(ctx: click.Context, job_id: str, reason: str, quiet: bool) -> None:
    """Stop a running or queued job."""
    response = client_for(ctx).stop(job_id, reason)
    if not quiet:
        evaluation = response.EvaluationID
        click.echo(f"Job stop successfully submitted with evaluation ID: {evaluation}")


for command in (run, logs, get, versions, rerun):
    job.add_command(command)


__all__ = ["fetch_jobs", "job"]
