"""The pre-`job` commands Bacalhau users still type: `list`, `describe`, `get`
(and `run`, in `run.py`). They answer from the same v1 API as `job ...`."""

from __future__ import annotations

from pathlib import Path

import click

from .context import api_options, client_for
from .output import View, view_options

LEGACY_COLUMNS = ("created", "id", "job", "state")


@click.command(
    "list",
    epilog="""\b
Examples:
  bacalao list
  bacalao list --wide --sort-by=id --id-filter=j-5f0e
  bacalao list --all --output json""",
)
@click.option(
    "-n", "--number", type=click.IntRange(min=0), default=10, show_default=True
)
@click.option(
    "--sort-by",
    type=click.Choice(["created_at", "id"]),
    default="created_at",
    show_default=True,
)
@click.option(
    "--reverse/--no-reverse",
    default=True,
    show_default=True,
    help="Newest (or last) first.",
)
@click.option("--id-filter", default="", help="Only jobs whose ID starts with this.")
@click.option("--all", "everything", is_flag=True, help="Every job, not just -n.")
@view_options()
@api_options
@click.pass_context
def legacy_list(
    ctx: click.Context,
    number: int,
    sort_by: str,
    reverse: bool,
    id_filter: str,
    everything: bool,
    view: View,
) -> None:
    """List jobs the old way (see also `job list`)."""
    from .jobs import fetch_jobs
    from .output import when

    page = fetch_jobs(
        client_for(ctx),
        limit=number,
        everything=everything or bool(id_filter),
        order_by=sort_by,
        reverse=reverse,
    )
    jobs = [j for j in page.Items if j.ID.startswith(id_filter)]
    if not everything:
        jobs = jobs[:number]
    rows = [
        [
            when(j.CreateTime, date=view.wide),
            view.id(j.ID),
            j.Tasks[0].Engine.Type if j.Tasks else "",
            j.State.StateType.name,
        ]
        for j in jobs
    ]
    data = page.model_copy(update={"Items": jobs, "NextToken": ""})
    view.echo(data, lambda: view.table(LEGACY_COLUMNS, rows))


@click.command(
    "describe",
    epilog="""\b
Examples:
  bacalao describe j-5f0e3b2a
  bacalao describe j-5f0e3b2a --json""",
)
@click.argument("job_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
@view_options(formats=("yaml", "json", "table"))
@api_options
@click.pass_context
def legacy_describe(ctx: click.Context, job_id: str, as_json: bool, view: View) -> None:
    """Print a job, its executions and history as YAML (see `job describe`)."""
    from .describe import describe_text

    if as_json:
        view = View("json", view.wide, view.no_style)
    response = client_for(ctx).get_job(job_id, include=("executions", "history"))
    view.echo(response, lambda: describe_text(response, view))


@click.command(
    "get",
    epilog="""\b
Examples:
  bacalao get j-5f0e3b2a
  bacalao get j-5f0e3b2a --output-dir ./results""",
)
@click.argument("job_id", metavar="ID")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to put the results (default: ./job-<short ID>).",
)
@click.option("--raw", is_flag=True, help="Keep each execution's results apart.")
@api_options
@click.pass_context
def legacy_get(
    ctx: click.Context, job_id: str, output_dir: Path | None, raw: bool
) -> None:
    """Download a job's results (see `job get`)."""
    from .results import download_results

    client = client_for(ctx)
    job = client.get_job(job_id).Job
    download_results(client, job.ID, output_dir, raw=raw)


__all__ = ["legacy_describe", "legacy_get", "legacy_list"]
