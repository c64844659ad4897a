"""Requests and responses of our small ASGI layer, with no I/O of their own.

`Request` is what a handler reads (method, path params, query, headers,
the whole body); `Response` is what it returns — a whole body, or a
`stream` that writes the body in chunks (sent chunked, without a length).
`read_body` and `send_response` are the only functions that touch ASGI's
receive/send; `read_body` gives up on a body that stops arriving for
`timeout` seconds (a client must not hold a connection and its task by
sending half a body).
"""

from __future__ import annotations

import json
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Mapping,
    MutableMapping,
)
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, TypeVar

import trio
from pydantic import BaseModel
from pydantic_core import to_json

from .errors import BadRequest, PayloadTooLarge, RequestTimeout
from .query import Query

T = TypeVar("T")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Write = Callable[[bytes], Awaitable[None]]
Streamer = Callable[[Write], Awaitable[None]]

MAX_BODY = 10 * 1024 * 1024
BODY_TIMEOUT = 30.0  # seconds a request body may go without a byte arriving
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Request:
    """One HTTP request, body already read."""

    method: str
    path: str
    query: Query
    headers: Mapping[str, str]
    body: bytes = b""
    params: Mapping[str, str] = field(default_factory=dict)
    # the body as it arrives, for routes marked with `streams_body`
    chunks: Callable[[], AsyncGenerator[bytes, None]] | None = None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        """The body as JSON (None when empty); 400 if it does not parse."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as exc:
            raise BadRequest(f"malformed JSON body: {exc}") from exc

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object ({} when empty); 400 otherwise."""
        value = self.json()
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise BadRequest(
                f"malformed JSON body: expected an object, got {type(value).__name__}"
            )
        return value


@dataclass(frozen=True)
class Response:
    """A response: status, body bytes (or a `stream`) and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    stream: Streamer | None = None


def json_response(value: Any, status: int = 200) -> Response:
    """`value` (a model, or plain JSON data) serialised as the body."""
    if isinstance(value, BaseModel):
        body = value.model_dump_json().encode()
    else:
        body = to_json(value, by_alias=True, fallback=str)
    return Response(status, body)


def text_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), content_type="text/plain; charset=UTF-8")


def header_map(scope: Scope) -> dict[str, str]:
    """The request headers with lowercase names (the last value wins)."""
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        headers[name.decode("latin-1").lower()] = value.decode("latin-1")
    return headers


async def read_body(
    receive: Receive,
    headers: Mapping[str, str],
    limit: int,
    timeout: float = BODY_TIMEOUT,
) -> bytes:
    """The whole request body; `PayloadTooLarge` as soon as it is over `limit`,
    `RequestTimeout` once `timeout` s pass without any of it arriving."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async with aclosing(body_chunks(receive, timeout)) as arriving:
        async for chunk in arriving:
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    return b"".join(chunks)


async def body_chunks(
    receive: Receive, timeout: float = BODY_TIMEOUT
) -> AsyncGenerator[bytes, None]:
    """The request body as it arrives, chunk by chunk (for routes that
    stream it, e.g. uploads); `RequestTimeout` if it stalls for `timeout`."""
    while True:
        message: Message | None = None
        with trio.move_on_after(timeout):
            message = await receive()
        if message is None:
            raise RequestTimeout(
                f"the request body stalled: nothing arrived for {timeout:g} s",
                hint="send the whole body without pausing",
            )
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def streams_body(handler: T) -> T:
    """Mark a route handler that reads the body itself (`Request.chunks`)
    instead of receiving it whole; it then has no size limit of the app's."""
    handler.streams_body = True  # type: ignore[attr-defined]
    return handler


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body is larger than {limit // (1024 * 1024)} MB",
        hint="send large inputs through a storage source (e.g. urlDownload, s3) "
        "instead of inline",
    )


async def send_response(
    send: Send,
    response: Response,
    *,
    head: bool = False,
    request_id: str = "",
    receive: Receive | None = None,
) -> None:
    """Write `response`; with `receive`, a streamed body stops as soon as the
    client disconnects (an event stream may otherwise wait long to notice)."""
    headers = [(b"content-type", response.content_type.encode())]
    if response.stream is None:
        headers.append((b"content-length", str(len(response.body)).encode()))
    if request_id:
        headers.append((b"x-request-id", request_id.encode("latin-1", "replace")))
    headers += [
        (k.encode(), v.encode("latin-1", "replace")) for k, v in response.headers
    ]
    await send(
        {"type": "http.response.start", "status": response.status, "headers": headers}
    )
    if response.stream is not None and not head:
        if receive is None:
            await _send_stream(send, response.stream)
        else:
            await _send_stream_until_gone(send, receive, response.stream)
        return
    await send({"type": "http.response.body", "body": b"" if head else response.body})


async def _send_stream(send: Send, stream: Streamer) -> None:
    async def write(chunk: bytes) -> None:
        if chunk:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    await stream(write)
    await send({"type": "http.response.body", "body": b""})


async def _send_stream_until_gone(
    send: Send, receive: Receive, stream: Streamer
) -> None:
    async with trio.open_nursery() as nursery:

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            nursery.cancel_scope.cancel()

        nursery.start_soon(watch)
        await _send_stream(send, stream)
        nursery.cancel_scope.cancel()


__all__ = [
    "BODY_TIMEOUT",
    "JSON_TYPE",
    "MAX_BODY",
    "Receive",
    "Request",
    "Response",
    "Scope",
    "Send",
    "Streamer",
    "Write",
    "header_map",
    "json_response",
    "read_body",
    "send_response",
    "text_response",
]
