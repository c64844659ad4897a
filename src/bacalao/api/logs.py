"""`/api/v1/orchestrator/jobs/{id}/logs`: a job's output over a WebSocket.

As Bacalhau's: the socket is accepted first, then each output line goes
out as one text frame `{"value": {"Type": 1|2, "Line": "...\\n"}}` (1 =
stdout, 2 = stderr), and a failure (bad query value, unknown job, the
compute node unreachable) as a last frame `{"value": {...}, "error":
"..."}`; the server then closes with 1000. Query: `execution_id` (a
prefix; default the latest execution that ran), `follow`, `tail`,
`job_version`, `all_job_versions`, `namespace`. A plain HTTP GET gets a 400
that says to upgrade. A client that goes away ends the stream.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import trio

from ..models.api import ExecutionLog, LogStreamMessage
from .backend import Backend
from .errors import KNOWN_ERRORS, BadRequest, error_for
from .http import Receive, Request, Response, Scope, Send
from .lookup import resolve_job
from .query import INT64_MAX, Query
from .router import Doc, Route, route, websocket_route

LOGS = "/api/v1/orchestrator/jobs/{id}/logs"
log = logging.getLogger("bacalao.api.logs")


def _frame(message: LogStreamMessage) -> dict[str, Any]:
    return {"type": "websocket.send", "text": message.model_dump_json()}


async def _stream(
    backend: Backend, scope: Scope, job: str, send: Send
) -> LogStreamMessage | None:
    """Send the lines; the error frame to end with, if the stream failed."""
    try:
        query = Query(scope.get("query_string", b""))
        follow, tail = query.boolean("follow"), query.boolean("tail")
        query.integer("job_version", maximum=INT64_MAX)
        query.boolean("all_job_versions")
        job_id = await resolve_job(backend, job, query.text("namespace"))
        lines = backend.job_logs(
            job_id, query.text("execution_id"), follow=follow, tail=tail
        )
        try:
            async for line in lines:
                value = ExecutionLog(Type=line.stream, Line=line.line + "\n")
                await send(_frame(LogStreamMessage(value=value)))
        finally:
            aclose = getattr(lines, "aclose", None)
            if aclose is not None:
                await aclose()
    except KNOWN_ERRORS as exc:
        error = error_for(exc)
        text = f"{error.Message}; {error.Hint}" if error.Hint else error.Message
        return LogStreamMessage(error=text)
    except Exception:
        log.exception("streaming the logs of %s failed", job)
        return LogStreamMessage(error="Internal server error")
    return None


async def logs_socket(
    backend: Backend,
    scope: Scope,
    receive: Receive,
    send: Send,
    params: dict[str, str],
) -> None:
    """The WebSocket handler (see the module docstring)."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    async with trio.open_nursery() as nursery:

        async def watch() -> None:
            while (await receive())["type"] != "websocket.disconnect":
                pass
            nursery.cancel_scope.cancel()

        nursery.start_soon(watch)
        try:
            failure = await _stream(backend, scope, params["id"], send)
            if failure is not None:
                await send(_frame(failure))
            await send({"type": "websocket.close", "code": 1000})
        except OSError as exc:  # the client went away mid-send
            log.debug("logs of %s: client gone: %s", params["id"], exc)
        nursery.cancel_scope.cancel()


async def logs_over_http(request: Request) -> Response:
    raise BadRequest(
        "this endpoint streams logs over a WebSocket",
        hint="connect with a WebSocket client (Upgrade: websocket), "
        "e.g. `bacalao job logs ID`",
    )


def log_routes(backend: Backend) -> list[Route]:
    doc = Doc(
        "Stream a job's output over a WebSocket (each text frame is "
        '{"value": {"Type": 1|2, "Line": ...}, "error": ...})',
        query=(
            "execution_id",
            "follow",
            "tail",
            "job_version",
            "all_job_versions",
            "namespace",
        ),
        response=LogStreamMessage,
        errors=(400,),
    )
    return [
        route("GET", LOGS, logs_over_http, doc),
        websocket_route(LOGS, partial(logs_socket, backend)),
    ]


__all__ = ["log_routes", "logs_socket"]
