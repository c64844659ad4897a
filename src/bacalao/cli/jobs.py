"""`bacalao job ...`: list, describe and stop jobs on the node the CLI targets."""

from __future__ import annotations

import click

from .context import api_options, client_for
from .output import output_option, render, table


@click.group()
def job() -> None:
    """Inspect and manage jobs."""


@job.command(
    "list",
    epilog="""\b
Examples:
  bacalao job list
  bacalao job list --labels 'team=ml' --limit 20 --order-by created_at --order-reversed
  bacalao job list --output json""",
)
@click.option(
    "--limit", type=click.IntRange(0, 2**32 - 1), default=10, show_default=True
)
@click.option("--next-token", default="", help="Token from the previous page.")
@click.option("--order-by", default="", help="created_at, modified_at or id.")
@click.option("--order-reversed", is_flag=True, help="Newest (or last) first.")
@click.option(
    "--labels", default="", metavar="SELECTOR", help="e.g. 'env=prod,tier in (1,2)'."
)
@click.option("--namespace", default="", help="Only this namespace (default: all).")
@output_option()
@api_options
@click.pass_context
def list_jobs(
    ctx: click.Context,
    limit: int,
    next_token: str,
    order_by: str,
    order_reversed: bool,
    labels: str,
    namespace: str,
    output: str,
) -> None:
    """List jobs, oldest first (one page of --limit)."""
    from .describe import JOB_COLUMNS, job_row

    page = client_for(ctx).list_jobs(
        namespace=namespace or None,
        limit=limit,
        next_token=next_token or None,
        order_by=order_by or None,
        reverse=order_reversed,
        labels=labels or None,
    )
    if output != "table":
        click.echo(render(page, output))
        return
    click.echo(table(JOB_COLUMNS, [job_row(j) for j in page.Items]))
    if page.NextToken:
        prog = ctx.find_root().info_name or "bacalao"
        click.echo("\nTo fetch more records use:")
        click.echo(f"\t{prog} job list --limit {limit} --next-token {page.NextToken}")


@job.command(
    "describe",
    epilog="""\b
Examples:
  bacalao job describe j-5f0e3b2a
  bacalao job describe j-5f0e3b2a --output yaml""",
)
@click.argument("job_id", metavar="ID")
@output_option()
@api_options
@click.pass_context
def describe(ctx: click.Context, job_id: str, output: str) -> None:
    """Show a job (by ID or unique ID prefix): state, history, executions, output."""
    from .describe import describe_text

    response = client_for(ctx).get_job(job_id, include=("executions", "history"))
    click.echo(
        describe_text(response) if output == "table" else render(response, output)
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


__all__ = ["job"]
