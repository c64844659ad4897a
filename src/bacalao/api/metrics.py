"""`GET /metrics`: the node's metrics in Prometheus' text format.

Served outside `/api/v1`, where Prometheus looks by default, and behind
the API's bearer tokens like every other route (a scrape config gives the
token as `authorization: {credentials: ...}`).
"""

from __future__ import annotations

from collections.abc import Callable

from .http import Request, Response
from .router import Doc, Route, route

METRICS = "/metrics"


def metrics_routes(render: Callable[[], bytes], content_type: str) -> list[Route]:
    """The `/metrics` route, answering with `render()`."""

    async def metrics(request: Request) -> Response:
        return Response(200, render(), content_type=content_type)

    doc = Doc(
        "this node's metrics (Prometheus text format)",
        content_type=content_type.split(";")[0],
        errors=(401,),
        tag="Metrics",
    )
    return [route("GET", METRICS, metrics, doc)]


__all__ = ["METRICS", "metrics_routes"]
