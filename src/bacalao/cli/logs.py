"""`bacalao job logs`: a job's output, from the node that ran it, live with -f.

Lines the task wrote to stdout go to stdout and its stderr lines to
stderr, as they arrive over the node's logs WebSocket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import api_options, client_for

if TYPE_CHECKING:
    from ..client.api import Client


def print_logs(
    client: Client,
    job_id: str,
    *,
    execution_id: str = "",
    follow: bool = False,
    tail: bool = False,
) -> int:
    """Print the job's output lines as they come; how many there were."""
    count = 0
    for line in client.logs(
        job_id, execution_id=execution_id, follow=follow, tail=tail
    ):
        click.echo(line.Line, nl=False, err=line.Type == 2)
        count += 1
    return count


@click.command(
    "logs",
    epilog="""\b
Examples:
  bacalao job logs j-5f0e3b2a
  bacalao job logs --follow j-5f0e3b2a
  bacalao job logs --tail --execution-id e-8a1c j-5f0e3b2a""",
)
@click.argument("job_id", metavar="ID")
@click.option(
    "-e",
    "--execution-id",
    default="",
    help="Only this execution (ID or prefix; default: the latest that ran).",
)
@click.option(
    "-f", "--follow", is_flag=True, help="Keep printing new lines until it ends."
)
@click.option("-t", "--tail", is_flag=True, help="Start from the end of the output.")
@api_options
@click.pass_context
def logs(
    ctx: click.Context, job_id: str, execution_id: str, follow: bool, tail: bool
) -> None:
    """Print a job's output (by job ID, prefix or name)."""
    print_logs(
        client_for(ctx), job_id, execution_id=execution_id, follow=follow, tail=tail
    )


__all__ = ["logs", "print_logs"]
