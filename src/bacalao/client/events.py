"""Reading a node's event stream (server-sent events), standard library only.

    for event in client.events(job_id):       # bacalao.client.api.Client
        print(event.event, event.id, event.json())

`EventParser` turns the lines of a `text/event-stream` body into
`ServerEvent`s (the WHATWG rules: `event`, `data` (joined by newlines),
`id`, comments starting with `:`, a blank line ends an event); it does no
I/O. `read_events` reads them off an `http.client` response as they come.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConnectError
from .wire import api_error

if TYPE_CHECKING:
    from .conn import Endpoint

READ_TIMEOUT = 60.0  # s without a byte: the server sends a keepalive every 15 s
MAX_LINE = 16 * 1024 * 1024  # a job with its executions fits well under this


@dataclass(frozen=True)
class ServerEvent:
    """One event: its type ("message" if unnamed), last ID and data."""

    event: str
    id: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class EventParser:
    """Feed it the stream's lines; it hands back each event when it ends."""

    def __init__(self) -> None:
        self.last_id = ""
        self._type = ""
        self._data: list[str] = []

    def feed(self, line: str) -> ServerEvent | None:
        """One line (its line break may be left on); the event it completes."""
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._type = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        return None

    def _dispatch(self) -> ServerEvent | None:
        data, kind = self._data, self._type
        self._data, self._type = [], ""
        if not data:
            return None
        return ServerEvent(kind or "message", self.last_id, "\n".join(data))


def read_events(response: http.client.HTTPResponse) -> Iterator[ServerEvent]:
    """The events of a streaming response, each as soon as it is complete;
    ends when the server ends the stream."""
    parser = EventParser()
    while True:
        raw = response.readline(MAX_LINE)
        if not raw:
            return
        event = parser.feed(raw.decode("utf-8", "replace"))
        if event is not None:
            yield event


def stream_events(
    endpoint: Endpoint, target: str, headers: dict[str, str], timeout: float
) -> Generator[ServerEvent, None, None]:
    """GET the event stream at `target` and yield its events; `ApiError` (a
    `NotFound` from a node without the route) or `ConnectError`."""
    connection = endpoint.connection(timeout)
    try:
        connection.request("GET", target, headers=headers)
        response = connection.getresponse()
        if response.status >= 400:
            raise api_error(response.status, response.read(), f"GET {target}")
        yield from read_events(response)
    except OSError as exc:
        raise endpoint.connect_error(exc, timeout) from exc
    except http.client.HTTPException as exc:
        raise ConnectError(
            f"the event stream of {endpoint.base_url} broke: {exc}"
        ) from exc
    finally:
        connection.close()


__all__ = [
    "MAX_LINE",
    "READ_TIMEOUT",
    "EventParser",
    "ServerEvent",
    "read_events",
    "stream_events",
]
