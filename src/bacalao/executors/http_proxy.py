"""The filtering proxy of `HTTP`-network tasks (Bacalhau ran Squid for this).

One proxy serves one execution. It listens on the gateway address of the
execution's internal Docker network, the only address the container can
reach, and forwards what the execution's `HttpPolicy` allows:

    CONNECT host:port        a TCP tunnel (HTTPS), once host and address pass
    GET http://host/path     the request, rewritten for the origin server,
                             which closes the connection after its answer

Anything else the proxy answers itself, with a status line that says why,
e.g. `403 Forbidden (example.org is not in the job's Network.Domains)`, so
the task's HTTP client shows the reason. The proxy resolves names itself
and dials the address it checked. It runs in the caller's nursery and
stops, closing every connection, when that is cancelled.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from functools import partial

import trio

from .http_policy import BadRequest, HttpPolicy, ProxyRequest, parse_request_head

logger = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024
HEAD_SECONDS = 30.0
CONNECT_SECONDS = 10.0
_CHUNK = 64 * 1024
_PHRASES = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}
_STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError)


class Refused(Exception):
    """The proxy answers the client itself: `status` and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def serve_proxy(
    listeners: list[trio.SocketListener],
    policy: HttpPolicy,
    *,
    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve clients on `listeners` until cancelled."""
    handler = partial(handle_client, policy=policy)
    await trio.serve_listeners(handler, listeners, task_status=task_status)


async def handle_client(stream: trio.abc.Stream, *, policy: HttpPolicy) -> None:
    """Serve one client connection: one request, or one tunnel."""
    async with stream:
        try:
            await _serve(stream, policy)
        except Refused as exc:
            logger.info("http proxy refused a request: %s", exc.reason)
            await _answer(stream, exc.status, exc.reason)
        except _STREAM_ERRORS:
            pass


async def _serve(client: trio.abc.Stream, policy: HttpPolicy) -> None:
    head, rest = await _read_head(client)
    try:
        request = parse_request_head(head)
    except BadRequest as exc:
        raise Refused(400, str(exc)) from None
    reason = policy.host_refusal(request.host)
    if reason is not None:
        raise Refused(403, reason)
    upstream = await _dial(request, policy)
    async with upstream:
        if request.tunnel:
            await client.send_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            await upstream.send_all(request.head)
        if rest:
            await upstream.send_all(rest)
        await _splice(client, upstream)


async def _read_head(stream: trio.abc.Stream) -> tuple[bytes, bytes]:
    """The request head (through the blank line) and any bytes after it."""
    data = b""
    with trio.move_on_after(HEAD_SECONDS):
        while b"\r\n\r\n" not in data:
            chunk = await stream.receive_some(_CHUNK)
            if not chunk:
                raise trio.BrokenResourceError("client closed before a request")
            data += chunk
            if len(data) > HEAD_LIMIT and b"\r\n\r\n" not in data[:HEAD_LIMIT]:
                raise Refused(400, f"request head longer than {HEAD_LIMIT} bytes")
        head, _, rest = data.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n", rest
    raise Refused(400, f"no request within {HEAD_SECONDS:g} s")


async def _dial(request: ProxyRequest, policy: HttpPolicy) -> trio.SocketStream:
    """Connect to the first resolved address of the host that policy allows."""
    try:
        infos = await trio.socket.getaddrinfo(
            request.host, request.port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise Refused(502, f"cannot resolve {request.host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    refusals = [policy.address_refusal(a) for a in addresses]
    allowed = [a for a, r in zip(addresses, refusals, strict=True) if r is None]
    if not allowed:
        raise Refused(403, f"{request.host} resolves to {refusals[0]}")
    failure: OSError | None = None
    for address in allowed:
        with trio.move_on_after(CONNECT_SECONDS):
            try:
                return await trio.open_tcp_stream(address, request.port)
            except OSError as exc:
                failure = exc
    reason = failure or f"no answer within {CONNECT_SECONDS:g} s"
    raise Refused(502, f"cannot connect to {request.host}:{request.port}: {reason}")


async def _splice(client: trio.abc.Stream, upstream: trio.SocketStream) -> None:
    """Copy both ways until the upstream side has said all it will say."""
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_copy, client, upstream)
        await _copy(upstream, client)
        nursery.cancel_scope.cancel()


async def _copy(source: trio.abc.Stream, sink: trio.abc.Stream) -> None:
    try:
        while data := await source.receive_some(_CHUNK):
            await sink.send_all(data)
        if isinstance(sink, trio.abc.HalfCloseableStream):
            await sink.send_eof()
    except (*_STREAM_ERRORS, OSError):
        pass


async def _answer(stream: trio.abc.Stream, status: int, reason: str) -> None:
    body = f"bacalao: {reason}\n".encode()
    phrase = "".join(c if 32 <= ord(c) < 127 else "?" for c in reason)
    head = (
        f"HTTP/1.1 {status} {_PHRASES[status]} ({phrase})\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(*_STREAM_ERRORS):
        await stream.send_all(head.encode("latin-1") + body)
