"""`bacalao agent alive|version|node|debug` and `bacalao id`: about the node
the CLI talks to (`/api/v1/agent/*`)."""

from __future__ import annotations

import click

from .context import api_options, client_for
from .output import View, key_values, output_option, render, view_options


@click.group()
def agent() -> None:
    """Ask the node the CLI talks to about itself."""


@agent.command(
    "alive",
    epilog="""\b
Examples:
  bacalao agent alive
  bacalao --api-port 1235 agent alive --output json""",
)
@view_options()
@api_options
@click.pass_context
def alive(ctx: click.Context, view: View) -> None:
    """Whether the node serves requests (exit status 1 if not)."""
    response = client_for(ctx).alive()
    view.echo(response, lambda: key_values([("Status", response.Status)]))
    if not response.is_ready:
        ctx.exit(1)


@agent.command(
    "version",
    epilog="""\b
Examples:
  bacalao agent version
  bacalao agent version --output yaml""",
)
@view_options()
@api_options
@click.pass_context
def version(ctx: click.Context, view: View) -> None:
    """The node's version."""
    info = client_for(ctx).version()
    rows = [[info.GitVersion, info.GitCommit, info.BuildDate.isoformat(), info.GOOS]]
    view.echo(info, lambda: view.table(("version", "commit", "build date", "os"), rows))


@agent.command(
    "node",
    epilog="""\b
Examples:
  bacalao agent node
  bacalao agent node --output json""",
)
@view_options()
@api_options
@click.pass_context
def agent_node(ctx: click.Context, view: View) -> None:
    """The node's own description: ID, type, labels, what it offers."""
    from ..models.node import NodeState
    from .nodes import describe_node

    info = client_for(ctx).agent_node()
    view.echo(info, lambda: describe_node(NodeState(Info=info)))


@agent.command(
    "debug",
    epilog="""\b
Examples:
  bacalao agent debug
  bacalao agent debug --output json""",
)
@output_option(("yaml", "json"))
@api_options
@click.pass_context
def debug(ctx: click.Context, output: str) -> None:
    """The node's counters: peers, gossip dropped, connections refused."""
    click.echo(render(client_for(ctx).debug_info(), output))


@click.command(
    "id",
    epilog="""\b
Examples:
  bacalao id
  bacalao id --output json""",
)
@view_options()
@api_options
@click.pass_context
def node_id(ctx: click.Context, view: View) -> None:
    """The ID of the node the CLI talks to."""
    info = client_for(ctx).agent_node()
    data = {"ID": info.NodeID, "Type": info.NodeType, "API": info.ApiAddress}
    view.echo(data, lambda: view.table(list(data), [list(data.values())]))


__all__ = ["agent", "node_id"]
