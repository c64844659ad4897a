"""`/api/v1/orchestrator/events`: job and node changes as server-sent events.

The body is `text/event-stream`, one event per change this node learns
of (see `bacalao.events`):

    event: job
    id: <the job's Revision>
    data: {"Job": {...}}

    event: node
    data: <a NodeState, as an item of GET /api/v1/orchestrator/nodes>

With `?job_id=` (an ID, unique prefix or name) only that job's events are
sent, their data carries `"Executions": [...]` too, and the first one,
sent at once, is the job's current state: a watcher never misses the end
of a job that ended before it subscribed. A `: keepalive` comment goes out
every 15 s. The stream ends when the client goes, when the node stops, or
(after a `: lagged` comment) when the client reads too slowly to keep up.
"""

from __future__ import annotations

from functools import partial

import trio

from ..events import Subscription, job_event
from .backend import Backend
from .http import Request, Response, Write
from .lookup import resolve_job
from .router import Doc, Route, route

EVENTS = "/api/v1/orchestrator/events"
EVENT_STREAM = "text/event-stream"
KEEPALIVE = 15.0
STREAM_HEADERS = (("cache-control", "no-cache"), ("x-accel-buffering", "no"))


async def events(backend: Backend, request: Request) -> Response:
    wanted = request.query.text("job_id")
    job_id = ""
    if wanted:
        job_id = await resolve_job(backend, wanted, request.query.text("namespace"))
    return Response(
        200,
        content_type=EVENT_STREAM,
        headers=STREAM_HEADERS,
        stream=partial(_stream, backend, job_id),
    )


async def _stream(backend: Backend, job_id: str, write: Write) -> None:
    with backend.subscribe_events(job_id) as subscription:
        sent = 0
        if job_id:  # subscribed first, so nothing falls between
            job = await backend.get_job(job_id)
            await write(job_event(job, await backend.job_executions(job_id)).frame())
            sent = job.Revision
        await _forward(subscription, sent, write)


async def _forward(subscription: Subscription, sent: int, write: Write) -> None:
    """Write events as they come (one job's: only revisions newer than `sent`)."""
    while True:
        event = None
        with trio.move_on_after(KEEPALIVE):
            try:
                event = await subscription.receive()
            except trio.EndOfChannel:
                if subscription.lagged:
                    await write(b": lagged\n\n")
                return
        if event is None:
            await write(b": keepalive\n\n")
        elif not (subscription.job_id and event.revision <= sent):
            await write(event.frame())
            sent = max(sent, event.revision)


def event_routes(backend: Backend) -> list[Route]:
    doc = Doc(
        "Job and node changes as server-sent events (text/event-stream); with "
        "job_id, that job's only, starting with its current state",
        query=("job_id", "namespace"),
        content_type=EVENT_STREAM,
    )
    return [route("GET", EVENTS, partial(events, backend), doc)]


__all__ = ["EVENTS", "event_routes"]
