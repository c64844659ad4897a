"""`bacalao node list`: the nodes the targeted node knows, and what they offer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import api_options, client_for
from .output import output_option, render, table

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


def node_row(node: NodeState) -> list[str]:
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
        info.NodeID,
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
@click.option("--order-reversed", is_flag=True)
@click.option("--labels", default="", metavar="SELECTOR", help="e.g. 'region=eu,gpu'.")
@click.option("--filter-approval", default="", help="PENDING, APPROVED or REJECTED.")
@click.option("--filter-status", default="", help="CONNECTED or DISCONNECTED.")
@output_option()
@api_options
@click.pass_context
def list_nodes(
    ctx: click.Context,
    limit: int,
    order_by: str,
    order_reversed: bool,
    labels: str,
    filter_approval: str,
    filter_status: str,
    output: str,
) -> None:
    """List the nodes this node knows of (available / total resources)."""
    response = client_for(ctx).nodes(
        limit=limit or None,
        order_by=order_by or None,
        reverse=order_reversed,
        labels=labels or None,
        filter_approval=filter_approval or None,
        filter_status=filter_status or None,
    )
    if output != "table":
        click.echo(render(response, output))
        return
    click.echo(table(NODE_COLUMNS, [node_row(n) for n in response.Nodes]))


__all__ = ["node"]
