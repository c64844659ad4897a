"""The ASGI app of the v1 REST API, and `serve_api` to run it under hypercorn.

    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve_api, backend, "127.0.0.1", 0)

`ApiApp` answers lifespan, HTTP and WebSocket scopes. Every HTTP error —
from routing, parsing, the backend or a bug — leaves as Bacalhau's
`APIError` JSON; a bug is logged with its traceback and answered with a 500
`Internal server error`, never with the traceback. `ApiOptions` are the
operator's controls: bearer tokens (see auth.py), TLS, how long a
request body may stall, how long requests in flight may take once the
API stops, and whether the dashboard (`bacalao.web`) is served at `/`.
A `RequestGate` (gate.py) counts requests in flight and answers 503 to
new ones while the node shuts down.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from ..web import WebUi
from .agent import agent_routes
from .auth import CHALLENGE, QUERY_TOKEN, BearerTokens
from .backend import Backend
from .errors import (
    KNOWN_ERRORS,
    ApiBindError,
    ApiError,
    BadRequest,
    MethodNotAllowed,
    RequestTimeout,
    ShuttingDown,
    Unauthorized,
    error_for,
)
from .events import event_routes
from .gate import RequestGate
from .http import (
    BODY_TIMEOUT,
    MAX_BODY,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    body_chunks,
    header_map,
    read_body,
    send_response,
)
from .ipfs import ipfs_routes
from .jobs import job_routes
from .logs import log_routes
from .nodes import node_routes
from .openapi import openapi_route
from .query import Query
from .results import result_routes
from .router import Route, Router, split_raw_path
from .versions import version_routes

log = logging.getLogger("bacalao.api")

KEEP_ALIVE = 5.0  # s an idle connection (or an unfinished request head) is kept
TLS_HANDSHAKE = 10.0
GRACEFUL_TIMEOUT = 5.0  # s requests in flight may take once the API stops


@dataclass(frozen=True)
class ApiOptions:
    """How the API is served: who may call it, over what, how patiently.

    No tokens: anyone who reaches the port may call it. `tls_cert` and
    `tls_key` (PEM files) together: https only.
    """

    tokens: tuple[str, ...] = ()
    tls_cert: Path | None = None
    tls_key: Path | None = None
    body_timeout: float = BODY_TIMEOUT
    graceful_timeout: float = GRACEFUL_TIMEOUT
    web_ui: bool = True

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"


def build_router(backend: Backend, extra: Iterable[Route] = ()) -> Router:
    """Every route of the API bound to `backend`, plus `extra` routes, plus
    the OpenAPI document of them all."""
    router = Router(
        [
            *agent_routes(backend),
            *job_routes(backend),
            *version_routes(backend),
            *log_routes(backend),
            *event_routes(backend),
            *node_routes(backend),
            *result_routes(backend),
            *ipfs_routes(backend),
            *extra,
        ]
    )
    router.add(openapi_route(router, backend.version().GitVersion))
    return router


class ApiApp:
    """The ASGI callable: routes a request, runs its handler, writes the answer."""

    def __init__(
        self,
        backend: Backend,
        *,
        max_body: int = MAX_BODY,
        routes: Iterable[Route] = (),
        tokens: Iterable[str] = (),
        body_timeout: float = BODY_TIMEOUT,
        gate: RequestGate | None = None,
        web_ui: bool = True,
    ) -> None:
        self.router = build_router(backend, routes)
        self.web = WebUi() if web_ui else None
        self.gate = gate or RequestGate()
        self.max_body = max_body
        self.tokens = BearerTokens(tokens)
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = header_map(scope)
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        method = scope["method"].upper()
        what = f"{method} {scope['path']}"
        with self.gate.admit() as refusal:
            response = refusal or await self._respond(scope, receive, headers, method)
            await _send(send, response, method, what, request_id, receive)

    async def _respond(
        self, scope: Scope, receive: Receive, headers: dict[str, str], method: str
    ) -> Response | Exception:
        """The handler's response, or what it (or routing, or parsing) raised."""
        try:
            segments = _segments(scope)
            if self.web is not None and self.web.serves(method, segments, headers):
                return await self.web.respond(segments, headers)
            self.tokens.check(method, segments, headers)
            handler, params = self.router.match(method, segments)
            streamed = _streams_body(handler)
            body = (
                b""
                if streamed
                else await read_body(receive, headers, self.max_body, self.body_timeout)
            )
            request = Request(
                method=method,
                path=scope["path"],
                query=Query(scope.get("query_string", b"")),
                headers=headers,
                body=body,
                params=params,
                chunks=partial(body_chunks, receive, self.body_timeout)
                if streamed
                else None,
            )
            response: Response = await handler(request)
        except Exception as exc:
            return exc
        return response

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        segments = _segments(scope)
        try:
            query = Query(scope.get("query_string", b""))
            self.tokens.check(
                "GET", segments, header_map(scope), query.text(QUERY_TOKEN) or None
            )
        except (Unauthorized, BadRequest) as exc:
            await _refuse_upgrade(scope, send, _error_response(exc, "upgrade", ""))
            return
        try:
            handler, params = self.router.match("WEBSOCKET", segments)
        except ApiError:
            await send({"type": "websocket.close", "code": 1008})
            return
        with self.gate.admit() as refusal:
            if refusal is None:
                await handler(scope, receive, send, params)
            else:
                await _refuse_upgrade(
                    scope, send, _error_response(refusal, "upgrade", "")
                )


async def _refuse_upgrade(scope: Scope, send: Send, response: Response) -> None:
    """Answer a WebSocket upgrade with an HTTP error where the server can
    (ASGI's websocket.http.response), else close it (the server says 403)."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [
        (b"content-type", response.content_type.encode()),
        (b"content-length", str(len(response.body)).encode()),
    ]
    headers += [(k.encode(), v.encode()) for k, v in response.headers]
    await send(
        {
            "type": "websocket.http.response.start",
            "status": response.status,
            "headers": headers,
        }
    )
    await send({"type": "websocket.http.response.body", "body": response.body})


async def _send(
    send: Send,
    answer: Response | Exception,
    method: str,
    what: str,
    request_id: str,
    receive: Receive,
) -> None:
    """Write a response (an error as Bacalhau's JSON); a broken stream is logged."""
    if isinstance(answer, Exception):
        answer = _error_response(answer, what, request_id)
    try:
        await send_response(
            send,
            answer,
            head=method == "HEAD",
            request_id=request_id,
            receive=receive,
        )
    except (OSError, trio.BrokenResourceError) as exc:  # a stream, cut short
        log.warning("%s: response cut short: %s", what, exc)
    except Exception:  # a bug in a stream: the headers are already sent
        log.exception("%s: response cut short", what)


def _streams_body(handler: Any) -> bool:
    """Whether a handler (or the function a `partial` wraps) reads its body."""
    inner = getattr(handler, "func", handler)
    return bool(getattr(inner, "streams_body", False))


def _segments(scope: Scope) -> tuple[str, ...]:
    raw = scope.get("raw_path")
    if raw is None:
        raw = quote(scope["path"]).encode()
    return split_raw_path(raw)


def _error_response(exc: Exception, what: str, request_id: str) -> Response:
    if isinstance(exc, KNOWN_ERRORS):
        log.debug("%s: %s %s", what, type(exc).__name__, exc)
    else:
        log.exception("%s failed (request %s)", what, request_id)
    error = error_for(exc, request_id)
    extra: tuple[tuple[str, str], ...] = ()
    if isinstance(exc, MethodNotAllowed):
        extra = (("allow", ", ".join(exc.allowed)),)
    elif isinstance(exc, Unauthorized):
        extra = (CHALLENGE,)
    elif isinstance(exc, RequestTimeout | ShuttingDown):
        extra = (("connection", "close"),)  # the rest of the body is not awaited
    return Response(error.Status, error.model_dump_json().encode(), headers=extra)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def hypercorn_config(host: str, port: int, options: ApiOptions | None = None) -> Config:
    """Hypercorn settings for the API: one bind, our logger, no access log,
    TLS if the options give a certificate.

    Slow clients: hypercorn closes a connection idle for `KEEP_ALIVE` s,
    and a connection whose request head is unfinished counts as idle, so
    that bounds slow headers too. Its per-read `read_timeout` stays off:
    it would also cut a log follow or a download whose client sends nothing
    for a while; a stalled body is bounded by `ApiApp` instead.
    """
    options = options or ApiOptions()
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("bacalao.api.server")
    config.include_server_header = False
    config.graceful_timeout = options.graceful_timeout
    config.keep_alive_timeout = KEEP_ALIVE
    config.read_timeout = None
    if options.tls_cert is not None and options.tls_key is not None:
        config.certfile = str(options.tls_cert.expanduser())
        config.keyfile = str(options.tls_key.expanduser())
        config.ssl_handshake_timeout = TLS_HANDSHAKE
        config.alpn_protocols = ["http/1.1"]  # HTTP/2 is neither needed nor tested
    return config


def _bound_port(binds: list[str]) -> int:
    return int(binds[0].rsplit(":", 1)[1])


async def serve_api(
    backend: Backend,
    host: str = "127.0.0.1",
    port: int = 1234,
    *,
    options: ApiOptions | None = None,
    gate: RequestGate | None = None,
    shutdown_trigger: Callable[[], Awaitable[None]] | None = None,
    routes: Iterable[Route] = (),
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the API (plus `routes`) until cancelled, or until
    `shutdown_trigger` returns; reports the bound port (port 0 works).

    Once `shutdown_trigger` returns, hypercorn stops listening, closes idle
    connections and gives requests in flight `options.graceful_timeout`
    seconds before it cancels them; then this returns. `gate` counts the
    requests in flight (and refuses new ones once closed).
    Raises `ApiBindError` if it cannot listen on `host`:`port`.
    """
    options = options or ApiOptions()
    config = hypercorn_config(host, port, options)
    # hypercorn's scope types are narrower than ours
    app: Any = ApiApp(
        backend,
        routes=routes,
        tokens=options.tokens,
        body_timeout=options.body_timeout,
        gate=gate,
        web_ui=options.web_ui,
    )
    failure: OSError | None = None
    run = partial(serve, app, config, mode="asgi", shutdown_trigger=shutdown_trigger)
    async with trio.open_nursery() as nursery:
        try:
            binds = await nursery.start(run)
        except* OSError as group:
            failure = _first_leaf(group)
        else:
            log.info("API listening on %s", binds[0])
            task_status.started(_bound_port(binds))
    if failure is not None:
        reason = failure.strerror or str(failure)
        message = f"cannot serve the API on {host}:{port}: {reason}"
        raise ApiBindError(failure.errno, message) from failure


def _first_leaf(group: BaseExceptionGroup[OSError]) -> OSError:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


__all__ = ["ApiApp", "ApiOptions", "build_router", "hypercorn_config", "serve_api"]
