"""`bacalao agent alive|version|node|config|debug` and `bacalao id`: about
the node the CLI talks to (`/api/v1/agent/*`)."""

from __future__ import annotations

import click

from .context import api_options, client_for
from .output import View, output_option, pretty_option, render, view_options


@click.group()
def agent() -> None:
    """Ask the node the CLI talks to about itself."""


@agent.command(
    "alive",
    epilog="""\b
Examples:
  bacalao agent alive                 # Status: OK
  bacalao --api-port 1235 agent alive --output json""",
)
@output_option(("yaml", "json"))
@pretty_option
@api_options
@click.pass_context
def alive(ctx: click.Context, output: str, pretty: bool) -> None:
    """Whether the node serves requests (exit status 1 if not)."""
    response = client_for(ctx).alive()
    click.echo(render(response, output, pretty=pretty))
    if not response.is_ready:
        ctx.exit(1)


@agent.command(
    "version",
    epilog="""\b
Examples:
  bacalao agent version
  bacalao agent version --output yaml""",
)
@output_option(("json", "yaml"), optional=True)
@pretty_option
@api_options
@click.pass_context
def version(ctx: click.Context, output: str | None, pretty: bool) -> None:
    """The node's version (as lines of text unless --output is given)."""
    info = client_for(ctx).version()
    if output:
        click.echo(render(info, output, pretty=pretty))
        return
    built = info.BuildDate.strftime("%Y-%m-%d %H:%M:%S %z %Z")
    click.echo(
        f"Bacalao {info.GitVersion}\nBuildDate {built}\nGitCommit {info.GitCommit}"
    )


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
    "config",
    epilog="""\b
Examples:
  bacalao agent config
  bacalao agent config --output json | jq .api_port""",
)
@output_option(("yaml", "json"))
@pretty_option
@api_options
@click.pass_context
def agent_config(ctx: click.Context, output: str, pretty: bool) -> None:
    """The node's effective configuration (API tokens and swarm key masked)."""
    click.echo(render(client_for(ctx).agent_config(), output, pretty=pretty))


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
