"""Routes about the node answering: `/api/v1/agent/*` and the legacy paths.

`/api/v1/agent/config` answers `{"config": {...}}` as Bacalhau's does, with
the node's effective NodeConfig in it and every secret (API tokens, the
swarm key) masked.

Legacy (pre-v1.5) paths kept for older clients and health checks:
`/api/v1/healthz` (disk space), `/api/v1/livez` and `/api/v1/id` (plain
text), `/api/v1/node_info` (this node's NodeState), `/api/v1/version`
(`{"build_version_info": ...}`, GET and POST) and `/` (the version).
"""

from __future__ import annotations

import shutil
from functools import partial

import trio

from ..config import redacted
from ..models.api import IsAliveResponse
from ..models.node import BuildVersionInfo, NodeInfo, NodeState
from .backend import Backend
from .http import Request, Response, json_response, text_response
from .router import Doc, Route, route


async def alive(backend: Backend, request: Request) -> Response:
    return json_response(IsAliveResponse())


async def version(backend: Backend, request: Request) -> Response:
    return json_response(backend.version())


async def agent_node(backend: Backend, request: Request) -> Response:
    return json_response(backend.node_info())


async def agent_config(backend: Backend, request: Request) -> Response:
    return json_response({"config": redacted(backend.node_config())})


async def debug(backend: Backend, request: Request) -> Response:
    return json_response(backend.debug_info())


async def legacy_version(backend: Backend, request: Request) -> Response:
    request.json()  # a malformed body is still a 400, as it was
    info = backend.version().model_dump(mode="json")
    return json_response({"build_version_info": info})


async def legacy_id(backend: Backend, request: Request) -> Response:
    return text_response(backend.node_id)


async def livez(backend: Backend, request: Request) -> Response:
    return text_response("OK")


async def node_info(backend: Backend, request: Request) -> Response:
    for state in backend.list_nodes():
        if state.Info.NodeID == backend.node_id:
            return json_response(state)
    return json_response(NodeState(Info=backend.node_info()))


def _mount_usage(path: str) -> dict[str, int]:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return {"All": 0, "Used": 0, "Free": 0}
    return {"All": usage.total, "Used": usage.used, "Free": usage.free}


async def healthz(backend: Backend, request: Request) -> Response:
    root = await trio.to_thread.run_sync(_mount_usage, "/")
    tmp = await trio.to_thread.run_sync(_mount_usage, "/tmp")
    return json_response({"FreeSpace": {"tmp": tmp, "root": root}})


_OBJECT = {"type": "object"}
_TEXT = "text/plain"


def _doc(summary: str, response: object, content_type: str = "application/json") -> Doc:
    return Doc(summary, response=response, content_type=content_type, errors=())


def agent_routes(backend: Backend) -> list[Route]:
    v1 = "/api/v1"
    version_doc = _doc("This node's version (flat BuildVersionInfo)", BuildVersionInfo)
    return [
        route(
            "GET",
            f"{v1}/agent/alive",
            partial(alive, backend),
            _doc("Whether the node serves requests", IsAliveResponse),
        ),
        route("GET", f"{v1}/agent/version", partial(version, backend), version_doc),
        route(
            "GET",
            f"{v1}/agent/node",
            partial(agent_node, backend),
            _doc("This node's NodeInfo (flat)", NodeInfo),
        ),
        route(
            "GET",
            f"{v1}/agent/config",
            partial(agent_config, backend),
            _doc("This node's configuration, secrets masked: {config: {...}}", _OBJECT),
        ),
        route(
            "GET",
            f"{v1}/agent/debug",
            partial(debug, backend),
            _doc("Debug information, by component", _OBJECT),
        ),
        route(
            ("GET", "POST"),
            f"{v1}/version",
            partial(legacy_version, backend),
            _doc("Legacy: {build_version_info: BuildVersionInfo}", _OBJECT),
        ),
        route(
            "GET",
            f"{v1}/id",
            partial(legacy_id, backend),
            _doc("Legacy: this node's ID", None, _TEXT),
        ),
        route(
            "GET",
            f"{v1}/livez",
            partial(livez, backend),
            _doc("Legacy: OK while alive", None, _TEXT),
        ),
        route(
            "GET",
            f"{v1}/healthz",
            partial(healthz, backend),
            _doc("Legacy: free disk space", _OBJECT),
        ),
        route(
            "GET",
            f"{v1}/node_info",
            partial(node_info, backend),
            _doc("Legacy: this node's NodeState", NodeState),
        ),
        route("GET", "/", partial(version, backend), version_doc),
    ]


__all__ = ["agent_routes"]
