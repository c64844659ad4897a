"""`bacalao node list|describe`: the nodes the targeted node knows, and what
they offer (by ID or unique ID prefix)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import api_options, client_for
from .output import View, key_values, view_options

if TYPE_CHECKING:
    from ..models.node import NodeState

NODE_COLUMNS = (
    "id",
    "type",
    "approval",
    "status",
    "labels",
    "cpu",
    "memory",
    "gpu",
    "engines",
)


def _gib(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB"


def node_row(node: NodeState, view: View = View()) -> list[str]:
    info = node.Info
    compute = info.ComputeNodeInfo
    labels = " ".join(f"{k}={v}" if v else k for k, v in sorted(info.Labels.items()))
    if compute is None:
        usage = ["", "", ""]
    else:
        free, total = compute.AvailableCapacity, compute.MaxCapacity
        usage = [
            f"{free.CPU:g} / {total.CPU:g}",
            f"{_gib(free.Memory)} / {_gib(total.Memory)}",
            f"{free.GPU} / {total.GPU}",
        ]
    engines = ",".join(compute.ExecutionEngines) if compute else ""
    status = node.ConnectionState.Status
    return [
        info.NodeID if view.wide else info.NodeID[-12:],
        info.NodeType,
        node.Membership,
        status,
        labels,
        *usage,
        engines,
    ]


@click.group()
def node() -> None:
    """Inspect the nodes of the network."""


@node.command(
    "list",
    epilog="""\b
Examples:
  bacalao node list
  bacalao node list --labels 'region=eu' --order-by available_cpu
  bacalao node list --filter-status connected --output yaml""",
)
@click.option("--limit", type=click.IntRange(0, 2**32 - 1), default=0, help="0: all.")
@click.option(
    "--order-by",
    default="",
    help="id, type, available_cpu, available_memory, available_disk, available_gpu.",
)
@click.option("--reverse", "--order-reversed", "reverse", is_flag=True)
@click.option("--labels", default="", metavar="SELECTOR", help="e.g. 'region=eu,gpu'.")
@click.option("--filter-approval", default="", help="PENDING, APPROVED or REJECTED.")
@click.option("--filter-status", default="", help="CONNECTED or DISCONNECTED.")
@view_options(tabular=True)
@api_options
@click.pass_context
def list_nodes(
    ctx: click.Context,
    limit: int,
    order_by: str,
    reverse: bool,
    labels: str,
    filter_approval: str,
    filter_status: str,
    view: View,
) -> None:
    """List the nodes this node knows of (available / total resources)."""
    response = client_for(ctx).nodes(
        limit=limit or None,
        order_by=order_by or None,
        reverse=reverse,
        labels=labels or None,
        filter_approval=filter_approval or None,
        filter_status=filter_status or None,
    )
    view.echo_list(
        response.Nodes, NODE_COLUMNS, lambda v: [node_row(n, v) for n in response.Nodes]
    )


def describe_node(state: NodeState) -> str:
    """Key/value text of one node: who it is, what it offers, how full it is."""
    info = state.Info
    compute = info.ComputeNodeInfo
    pairs = [
        ("ID", info.NodeID),
        ("Type", info.NodeType),
        ("Approval", state.Membership),
        ("Status", state.ConnectionState.Status),
        ("Labels", " ".join(f"{k}={v}" for k, v in sorted(info.Labels.items()))),
        ("Version", info.BacalhauVersion.GitVersion),
        ("API", info.ApiAddress),
        ("Addresses", " ".join(info.Addresses)),
    ]
    if compute is not None:
        free, total = compute.AvailableCapacity, compute.MaxCapacity
        pairs += [
            ("Engines", ", ".join(compute.ExecutionEngines)),
            ("Publishers", ", ".join(compute.Publishers)),
            ("Storage", ", ".join(compute.StorageSources)),
            ("CPU (free / total)", f"{free.CPU:g} / {total.CPU:g}"),
            ("Memory", f"{_gib(free.Memory)} / {_gib(total.Memory)}"),
            ("Disk", f"{_gib(free.Disk)} / {_gib(total.Disk)}"),
            ("GPU", f"{free.GPU} / {total.GPU}"),
            ("Running", str(compute.RunningExecutions)),
            ("Queued", str(compute.EnqueuedExecutions)),
        ]
    return key_values(pairs)


@node.command(
    "describe",
    epilog="""\b
Examples:
  bacalao node describe 12D3KooWRx
  bacalao node describe 12D3KooWRx --output json""",
)
@click.argument("node_id", metavar="ID")
@view_options()
@api_options
@click.pass_context
def describe(ctx: click.Context, node_id: str, view: View) -> None:
    """Show one node (by ID or unique ID prefix)."""
    response = client_for(ctx).node(node_id)
    view.echo(response.Node, lambda: describe_node(response.Node))


def _action(name: str, summary: str) -> None:
    @node.command(
        name,
        help=summary,
        epilog=f"""\b
Examples:
  bacalao node {name} 12D3KooWRx
  bacalao node {name} 12D3KooWRx -m 'checked by ops'""",
    )
    @click.argument("node_id", metavar="ID")
    @click.option("-m", "--message", default="", help="Why (kept in the log).")
    @api_options
    @click.pass_context
    def command(ctx: click.Context, node_id: str, message: str) -> None:
        client_for(ctx).update_node(node_id, name, message)
        click.echo("Ok")


_action("approve", "Approve a node: orchestrators may place work on it.")
_action("reject", "Reject a node: no work is placed on it.")
_action("delete", "Forget a node (it is new again if it comes back).")

__all__ = ["describe_node", "node", "node_row"]
