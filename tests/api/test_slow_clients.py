"""Slow clients on a real server: a stalled body gets 408 and the connection
closes; an unfinished request head is dropped after the keep-alive time."""

from __future__ import annotations

import pytest
import trio

from bacalao.api import app as app_module
from bacalao.api.app import ApiOptions, hypercorn_config, serve_api

from .fakes import FakeBackend

BODY_TIMEOUT = 2.0


async def start(nursery: trio.Nursery) -> trio.SocketStream:
    """A real API server on loopback, and a raw connection to it."""
    settings = ApiOptions(body_timeout=BODY_TIMEOUT)
    port = await nursery.start(
        lambda task_status: serve_api(
            FakeBackend(), "127.0.0.1", 0, options=settings, task_status=task_status
        )
    )
    return await trio.open_tcp_stream("127.0.0.1", port)


async def read_all(stream: trio.SocketStream, seconds: float = 15) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    with trio.fail_after(seconds):
        while chunk := await stream.receive_some():
            data += chunk
    return data


def head(body_size: int) -> bytes:
    return (
        b"POST /api/v1/version HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {body_size}\r\n\r\n".encode()
    )


async def test_a_stalled_body_gets_408_and_the_connection_closes(
    nursery: trio.Nursery,
) -> None:
    stream = await start(nursery)
    await stream.send_all(head(100) + b'{"half": "a bo')
    answer = await read_all(stream)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 "
    assert b'"Code":"TimeOut"' in rest
    assert b"nothing arrived for 2 s" in rest


async def test_a_body_that_keeps_coming_is_read(nursery: trio.Nursery) -> None:
    stream = await start(nursery)
    body = b'{"a": "' + b"x" * 50 + b'"}'
    await stream.send_all(head(len(body)))
    for i in range(0, len(body), 10):
        await trio.sleep(0.1)  # far inside the 2 s the server waits per chunk
        await stream.send_all(body[i : i + 10])
    with trio.fail_after(10):
        answer = await stream.receive_some()
    assert answer.startswith(b"HTTP/1.1 200 ")


async def test_an_unfinished_request_head_is_dropped(
    nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "KEEP_ALIVE", 1.0)
    stream = await start(nursery)
    await stream.send_all(b"GET /api/v1/agent/alive HTTP/1.1\r\nHost: x\r\n")
    assert await read_all(stream) == b""  # closed without an answer


def test_hypercorn_timeouts() -> None:
    config = hypercorn_config("127.0.0.1", 0)
    assert config.keep_alive_timeout == app_module.KEEP_ALIVE
    # no per-read timeout: it would cut log follows and downloads
    assert config.read_timeout is None
    assert not config.ssl_enabled
