"""A small path router: `{name}` segments, HTTP and WebSocket routes.

Routes are matched segment by segment, static segments before `{params}`
in registration order. A path that exists under other methods is a 405,
a path that matches nothing is a 404 with Bacalhau's message and hint.
HEAD is served by the GET route (the app drops the body).

An HTTP handler is `async (Request) -> Response`; a WebSocket handler is
`async (scope, receive, send, params) -> None` and speaks ASGI's websocket
messages itself (accept, send, close). A route may carry a `Doc`: what the
OpenAPI document (`bacalao.api.openapi`) says about it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from .errors import NOT_FOUND_HINT, MethodNotAllowed, NotFound
from .http import Request, Response

Handler = Callable[[Request], Awaitable[Response]]
WebSocketHandler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Doc:
    """What the OpenAPI document says of a route.

    `query` names parameters of `bacalao.api.openapi.QUERY_PARAMS`; `body`
    and `response` are pydantic models (or None for no JSON body);
    `content_type` is the success body's type when it is not JSON.
    """

    summary: str
    query: tuple[str, ...] = ()
    body: Any = None
    response: Any = None
    content_type: str = "application/json"
    errors: tuple[int, ...] = (400, 404)
    tag: str = ""  # default: from the path, e.g. "Orchestrator"


@dataclass(frozen=True)
class Route:
    """Handlers for one path pattern, by method ("WEBSOCKET" for a socket)."""

    methods: frozenset[str]
    pattern: str
    handler: Any
    doc: Doc | None = None

    @property
    def segments(self) -> tuple[str, ...]:
        return _split(self.pattern)


def route(
    methods: str | Iterable[str],
    pattern: str,
    handler: Handler,
    doc: Doc | None = None,
) -> Route:
    names = {methods} if isinstance(methods, str) else set(methods)
    return Route(frozenset(m.upper() for m in names), pattern, handler, doc)


def websocket_route(
    pattern: str, handler: WebSocketHandler, doc: Doc | None = None
) -> Route:
    return Route(frozenset({"WEBSOCKET"}), pattern, handler, doc)


def _split(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.strip("/").split("/") if part)


def split_raw_path(raw: bytes) -> tuple[str, ...]:
    """The segments of a percent-encoded path, each decoded (so `a%2Fb` is one)."""
    parts = (
        unquote_to_bytes(p).decode("utf-8", "replace") for p in raw.split(b"/") if p
    )
    return tuple(parts)


def _bind(pattern: tuple[str, ...], path: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(path):
        return None
    params: dict[str, str] = {}
    for want, have in zip(pattern, path, strict=True):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = have
        elif want != have:
            return None
    return params


def _specificity(route: Route) -> tuple[int, ...]:
    return tuple(1 if s.startswith("{") else 0 for s in route.segments)


class Router:
    """Finds the handler and path params for a method and path."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._routes: list[Route] = []
        for item in routes:
            self.add(item)

    def add(self, item: Route) -> None:
        self._routes.append(item)
        self._routes.sort(key=_specificity)

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route, in matching order."""
        return tuple(self._routes)

    def match(
        self, method: str, path: str | tuple[str, ...]
    ) -> tuple[Any, dict[str, str]]:
        """The handler and params; `NotFound` or `MethodNotAllowed` otherwise.

        `path` is a decoded path, or the segments of one (`split_raw_path`).
        """
        method = "GET" if method == "HEAD" else method
        segments = _split(path) if isinstance(path, str) else path
        allowed: set[str] = set()
        for item in self._routes:
            params = _bind(item.segments, segments)
            if params is None:
                continue
            if method in item.methods:
                return item.handler, params
            allowed |= item.methods - {"WEBSOCKET"}
        if allowed:
            raise MethodNotAllowed(method, allowed)
        raise NotFound(
            "The requested resource/URL was not found.",
            hint=NOT_FOUND_HINT,
            details={"cli_usage": "bacalao --help", "path": "/" + "/".join(segments)},
        )


__all__ = [
    "Doc",
    "Handler",
    "Route",
    "Router",
    "WebSocketHandler",
    "route",
    "split_raw_path",
    "websocket_route",
]
