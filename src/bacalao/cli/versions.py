"""`bacalao job versions ID|NAME` and `bacalao job rerun ID|NAME [--version N]`.

A job spec submitted again under the same name (`job run`) makes the next
version of that job; these commands list the versions and run one again.
"""

from __future__ import annotations

import click

from .context import api_options, client_for
from .output import View, view_options, when

VERSION_COLUMNS = ("created", "version", "state", "job")


@click.command(
    "versions",
    epilog="""\b
Examples:
  bacalao job versions nightly
  bacalao job versions j-5f0e3b2a --output yaml""",
)
@click.argument("job_id", metavar="ID|NAME")
@click.option("--namespace", default="", help="The job's namespace.")
@view_options()
@api_options
@click.pass_context
def versions(ctx: click.Context, job_id: str, namespace: str, view: View) -> None:
    """List the versions of a job, oldest first."""
    from ..client.versions import versions as job_versions

    response = job_versions(client_for(ctx), job_id, namespace=namespace or None)
    rows = [
        [
            when(job.ModifyTime, date=True),
            str(job.Version),
            job.State.StateType.name,
            job.Tasks[0].Engine.Type if job.Tasks else "",
        ]
        for job in response.Items
    ]
    view.echo(response, lambda: view.table(VERSION_COLUMNS, rows))


@click.command(
    "rerun",
    epilog="""\b
Examples:
  bacalao job rerun nightly
  bacalao job rerun j-5f0e3b2a --version 1""",
)
@click.argument("job_id", metavar="ID|NAME")
@click.option(
    "--version",
    "-v",
    "version",
    type=click.IntRange(min=0),
    default=0,
    help="The version to run again (default: the latest).",
)
@click.option("--reason", default="", help="Why, for the job's history.")
@click.option("--id-only", is_flag=True, help="Print only the job ID.")
@api_options
@click.pass_context
def rerun(
    ctx: click.Context, job_id: str, version: int, reason: str, id_only: bool
) -> None:
    """Run a version of a job again, as the job's next version."""
    from ..client.versions import rerun as rerun_job

    response = rerun_job(client_for(ctx), job_id, version=version, reason=reason)
    if id_only:
        click.echo(response.JobID)
        return
    click.echo(
        f"Job successfully rerun as version {response.JobVersion}. "
        f"Job ID: {response.JobID}"
    )
    prog = ctx.find_root().info_name or "bacalao"
    click.echo(f"\nTo follow it:\n\t{prog} job describe {response.JobID}")


__all__ = ["rerun", "versions"]
