"""Drive an ASGI app in-process: one request in, the whole response out."""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import trio


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


async def call(
    app: Any,
    method: str,
    path: str,
    *,
    query: str | bytes = b"",
    body: bytes = b"",
    json: Any = None,
    headers: dict[str, str] | None = None,
    chunk: int = 0,
) -> Reply:
    """Send one request to `app` and collect its reply (bounded to 5 s)."""
    if json is not None:
        body = jsonlib.dumps(json).encode()
    raw_query = query.encode() if isinstance(query, str) else query
    header_list = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if body and not any(k == b"content-length" for k, _ in header_list):
        header_list.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": path,
        "raw_path": quote(path).encode(),
        "query_string": raw_query,
        "headers": header_list,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }
    size = chunk or max(len(body), 1)
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    incoming = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
        for i, p in enumerate(parts)
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await trio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    with trio.fail_after(5):
        await app(scope, receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    reply_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    content = b"".join(m.get("body", b"") for m in sent[1:])
    return Reply(start["status"], reply_headers, content)


async def websocket(
    app: Any, path: str, query: str = "", *, disconnect_after: int = 0
) -> list[dict[str, Any]]:
    """Open a WebSocket to `app` and collect what it sends until it closes
    (or, with `disconnect_after`, hang up after that many text frames)."""
    sent: list[dict[str, Any]] = []
    hang_up = trio.Event()
    incoming = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await hang_up.wait()
        return {"type": "websocket.disconnect", "code": 1001}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))
        frames = sum(1 for m in sent if m["type"] == "websocket.send")
        if disconnect_after and frames >= disconnect_after:
            hang_up.set()

    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": quote(path).encode(),
        "query_string": query.encode(),
        "headers": [],
    }
    with trio.fail_after(5):
        await app(scope, receive, send)
    return sent


def frames(sent: list[dict[str, Any]]) -> list[Any]:
    """The JSON of each text frame a WebSocket handler sent."""
    return [jsonlib.loads(m["text"]) for m in sent if m["type"] == "websocket.send"]


def error_of(reply: Reply) -> dict[str, Any]:
    """The APIError body of a failed reply, checked for Bacalhau's keys."""
    body: dict[str, Any] = reply.json()
    assert {"Status", "Message", "RequestID", "Code", "Component"} <= set(body)
    assert body["Status"] == reply.status
    assert reply.headers["content-type"] == "application/json"
    return body


@dataclass
class EventStream:
    """A server-sent event stream being read from an app (see `open_events`)."""

    status: int
    headers: dict[str, str]
    chunks: trio.MemoryReceiveChannel[bytes]
    hang_up: trio.Event
    buffer: bytes = b""
    ended: bool = False

    async def next_block(self) -> str:
        """The next event or comment block (its lines, without the blank line);
        "" once the stream ended."""
        while b"\n\n" not in self.buffer:
            try:
                self.buffer += await self.chunks.receive()
            except trio.EndOfChannel:
                self.ended = True
                return ""
        block, self.buffer = self.buffer.split(b"\n\n", 1)
        return block.decode()

    async def next_event(self) -> tuple[str, str, Any]:
        """The next event's (event, id, data as JSON), skipping comments."""
        while True:
            block = await self.next_block()
            assert block, "the stream ended"
            fields: dict[str, str] = {}
            for line in block.splitlines():
                if not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value
            if fields:
                return (
                    fields["event"],
                    fields.get("id", ""),
                    jsonlib.loads(fields["data"]),
                )


@asynccontextmanager
async def open_events(
    app: Any, query: str = "", path: str = "/api/v1/orchestrator/events"
) -> AsyncIterator[EventStream]:
    """GET a streaming route of `app`; the client hangs up when the block ends."""
    send_chunk, chunks = trio.open_memory_channel[bytes](1000)
    hang_up = trio.Event()
    started: list[MutableMapping[str, Any]] = []
    has_start = trio.Event()
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message)
            has_start.set()
        elif message.get("body"):
            await send_chunk.send(message["body"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": path,
        "raw_path": quote(path).encode(),
        "query_string": query.encode(),
        "headers": [],
    }

    async def serve() -> None:
        async with send_chunk:
            await app(scope, receive, send)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        with trio.fail_after(5):
            await has_start.wait()
        headers = {k.decode(): v.decode() for k, v in started[0]["headers"]}
        stream = EventStream(started[0]["status"], headers, chunks, hang_up)
        try:
            yield stream
        finally:
            hang_up.set()
