"""Routes under `/api/v1/orchestrator/nodes`: list and look up nodes.

The backend hands over every node it knows; filtering (`filter-approval`,
`filter-status`, `labels`), ordering and paging are done here, with
Bacalhau's `order_by` names. A node is addressed by its ID or a unique
prefix of it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from pydantic import ValidationError

from ..models.api import (
    GetNodeResponse,
    ListNodesResponse,
    PutNodeRequest,
    PutNodeResponse,
)
from ..models.node import NodeState
from ..models.resources import Resources
from ..models.selectors import matches
from ..orchestrator.exceptions import NodeNotFound
from .backend import Backend
from .errors import AmbiguousNodeID, BadRequest, validation_message
from .http import Request, Response, json_response
from .paging import page_from_query
from .router import Doc, Route, route

NODES = "/api/v1/orchestrator/nodes"


def _available(node: NodeState) -> Resources:
    compute = node.Info.ComputeNodeInfo
    return compute.AvailableCapacity if compute else Resources()


# order_by -> (sort key, descending by default)
NODE_ORDER: dict[str, tuple[Callable[[NodeState], object], bool]] = {
    "": (lambda n: n.Info.NodeID, False),
    "id": (lambda n: n.Info.NodeID, False),
    "type": (lambda n: n.Info.NodeType, False),
    "available_cpu": (lambda n: _available(n).CPU, True),
    "available_memory": (lambda n: _available(n).Memory, True),
    "available_disk": (lambda n: _available(n).Disk, True),
    "available_gpu": (lambda n: _available(n).GPU, True),
    "approval": (lambda n: n.Membership, False),
    "status": (lambda n: n.Membership, False),
}


def _node_filter(request: Request) -> Callable[[NodeState], bool]:
    query = request.query
    approval = query.text("filter-approval").strip().upper()
    status = query.text("filter-status").strip().upper()
    selector = query.selector("labels")

    def keep(node: NodeState) -> bool:
        return (
            (not approval or node.Membership == approval)
            and (not status or node.ConnectionState.Status == status)
            and matches(selector, node.Info.Labels)
        )

    return keep


async def list_nodes(backend: Backend, request: Request) -> Response:
    page = page_from_query(request.query)
    if page.order_by not in NODE_ORDER:
        options = ", ".join(k for k in NODE_ORDER if k)
        raise BadRequest(
            f"invalid order_by: {page.order_by!r} (one of {options})",
            hint="order_by names a node field, e.g. available_cpu",
        )
    key, descending = NODE_ORDER[page.order_by]
    keep = _node_filter(request)
    nodes = [n for n in backend.list_nodes() if keep(n)]
    nodes.sort(key=key, reverse=descending != page.reverse)  # type: ignore[arg-type]
    chosen, token = page.slice(nodes)
    return json_response(ListNodesResponse(NextToken=token, Nodes=chosen))


def find_node(nodes: list[NodeState], prefix: str) -> NodeState:
    """The node whose ID is `prefix` or starts with it; 404, or 400 naming
    the candidates when several start with it."""
    exact = [n for n in nodes if n.Info.NodeID == prefix]
    found = exact or [n for n in nodes if n.Info.NodeID.startswith(prefix)]
    if not found:
        raise NodeNotFound(prefix)
    if len(found) > 1:
        ids = ", ".join(sorted(n.Info.NodeID for n in found)[:5])
        raise AmbiguousNodeID(
            f"multiple nodes found for id {prefix}: {ids}",
            hint="use more characters of the node ID",
            component="NodeManager",
        )
    return found[0]


async def get_node(backend: Backend, request: Request) -> Response:
    node = find_node(backend.list_nodes(), request.params["id"])
    return json_response(GetNodeResponse(Node=node))


NODE_ACTIONS = ("approve", "reject", "delete")


async def update_node(backend: Backend, request: Request) -> Response:
    """An operator approves, rejects or deletes a node (Bacalhau's actions)."""
    node = find_node(backend.list_nodes(), request.params["id"])
    try:
        body = PutNodeRequest.model_validate(request.json_object())
    except ValidationError as exc:
        raise BadRequest(f"invalid node action: {validation_message(exc)}") from None
    action = body.Action.strip().lower()
    if action not in NODE_ACTIONS:
        raise BadRequest(
            f"unsupported action {body.Action!r} (one of {', '.join(NODE_ACTIONS)})"
        )
    await backend.update_node(node.Info.NodeID, action)
    return json_response(PutNodeResponse(Success=True))


def node_routes(backend: Backend) -> list[Route]:
    orders = ", ".join(k for k in NODE_ORDER if k)
    return [
        route(
            "GET",
            NODES,
            partial(list_nodes, backend),
            Doc(
                f"The nodes this node knows of; order_by: {orders}",
                query=(
                    "limit",
                    "next_token",
                    "order_by",
                    "reverse",
                    "labels",
                    "filter-approval",
                    "filter-status",
                ),
                response=ListNodesResponse,
                errors=(400,),
            ),
        ),
        route(
            "GET",
            f"{NODES}/{{id}}",
            partial(get_node, backend),
            Doc("A node by ID or unique ID prefix", response=GetNodeResponse),
        ),
        route(
            "PUT",
            f"{NODES}/{{id}}",
            partial(update_node, backend),
            Doc(
                "Approve, reject or delete a node (Action: approve|reject|delete)",
                body=PutNodeRequest,
                response=PutNodeResponse,
                errors=(400, 404, 409),
            ),
        ),
    ]


__all__ = ["NODE_ORDER", "find_node", "node_routes"]
