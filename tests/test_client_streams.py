"""The client's streams over real sockets: logs (WebSocket) and downloads."""

from __future__ import annotations

import io
import socket
import tarfile
import threading
from pathlib import Path

import pytest
import trio

from bacalao.api.backend import LogLine
from bacalao.client.api import Client
from bacalao.client.errors import ApiError, ClientError, ConnectError, NotFound
from bacalao.client.ws import (
    HandshakeRefused,
    WebSocket,
    WebSocketError,
    accept_key,
    encode_frame,
)
from bacalao.ports import free_port
from tests.test_client import Live
from tests.test_client import live as live  # the fixture, for these tests too

JOBS = "/api/v1/orchestrator/jobs"


async def test_logs_lines_keep_their_newlines(live: Live) -> None:
    job = live.backend.add_job(Name="logger")
    execution = live.backend.add_execution(job.ID)
    live.backend.log_lines = [LogLine(1, "one"), LogLine(2, "two"), LogLine(1, "é")]

    def read() -> list[tuple[int, str]]:
        lines = live.client.logs("logger", execution_id=execution.ID[:6], tail=True)
        return [(line.Type, line.Line) for line in lines]

    assert await live.run(read) == [(1, "one\n"), (2, "two\n"), (1, "é\n")]
    assert live.backend.log_calls == [(job.ID, execution.ID[:6], False, True)]


async def test_logs_errors_are_api_errors(live: Live) -> None:
    def read(job_id: str) -> list[str]:
        return [line.Line for line in live.client.logs(job_id)]

    with pytest.raises(ApiError, match="job not found: j-nope"):
        await live.run(read, "j-nope")
    job = live.backend.add_job()
    live.backend.logs_fail_after = True
    with pytest.raises(ApiError, match="cannot be reached"):
        await live.run(read, job.ID)


async def test_following_logs_stops_when_the_client_stops(live: Live) -> None:
    job = live.backend.add_job()
    live.backend.follow_forever = True

    def first_line() -> str:
        lines = live.client.logs(job.ID, follow=True)
        line = next(lines).Line
        lines.close()  # type: ignore[attr-defined]
        return line

    assert await live.run(first_line) == "fake log line\n"


async def test_logs_without_a_node_is_a_connect_error() -> None:
    client = Client("127.0.0.1", free_port(), timeout=2)
    with pytest.raises(ConnectError, match="no bacalao node"):
        await trio.to_thread.run_sync(lambda: list(client.logs("j-1")))


async def test_download_streams_with_progress(live: Live, tmp_path: Path) -> None:
    folder = tmp_path / "e-1"
    folder.mkdir()
    (folder / "stdout").write_bytes(b"x" * 600_000)
    live.backend.result_folders["e-1"] = folder
    url = f"{live.client.base_url}/api/v1/local/results/e-1.tar.gz"
    sink = io.BytesIO()
    seen: list[tuple[int, int | None]] = []
    size = await live.run(
        live.client.download, url, sink, lambda d, t: seen.append((d, t))
    )
    assert size == len(sink.getvalue()) == seen[-1][0]
    assert all(total is None for _, total in seen)  # streamed, length unknown
    sink.seek(0)
    with tarfile.open(fileobj=sink, mode="r:gz") as tar:
        member = tar.extractfile("stdout")
        assert member is not None
        assert len(member.read()) == 600_000


async def test_download_errors(live: Live) -> None:
    base = live.client.base_url
    with pytest.raises(NotFound, match="no results of execution e-9"):
        await live.run(
            live.client.download,
            f"{base}/api/v1/local/results/e-9.tar.gz",
            io.BytesIO(),
        )
    with pytest.raises(ClientError, match="not an http"):
        await live.run(live.client.download, "ipfs://Qm", io.BytesIO())
    gone = f"http://127.0.0.1:{free_port()}/x.tar.gz"
    with pytest.raises(ConnectError, match="downloading"):
        await live.run(live.client.download, gone, io.BytesIO())


# -- the WebSocket client against hand-made servers --------------------------


def serve_once(
    reply: bytes, frames: bytes = b"", *, hang_up: bool = False
) -> tuple[int, threading.Thread]:
    """A one-shot server: read the handshake, answer `reply` (with the right
    accept key substituted for ACCEPT), send `frames`, then wait for the
    client's goodbye (or, with `hang_up`, close at once)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            key = next(
                line.split(b":", 1)[1].strip().decode()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key")
            )
            conn.sendall(reply.replace(b"ACCEPT", accept_key(key).encode()) + frames)
            if not hang_up:
                conn.recv(1024)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


UPGRADE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Accept: ACCEPT\r\n\r\n"
)


def server_frame(opcode: int, payload: bytes, final: bool = True) -> bytes:
    size = len(payload)
    head = bytes([(0x80 if final else 0) | opcode])
    if size < 126:
        return head + bytes([size]) + payload
    return head + bytes([126]) + size.to_bytes(2, "big") + payload


def test_fragments_pings_and_close() -> None:
    frames = (
        server_frame(0x1, b"hel", final=False)
        + server_frame(0x9, b"ping")
        + server_frame(0x0, b"lo")
        + server_frame(0x1, b"y" * 300)
        + server_frame(0x8, (1000).to_bytes(2, "big"))
    )
    port, thread = serve_once(UPGRADE, frames)
    with WebSocket.connect("127.0.0.1", port, "/", timeout=5) as ws:
        assert list(ws.messages()) == ["hello", "y" * 300]
        assert ws.close_code == 1000
    thread.join(5)


def test_refused_and_broken_handshakes() -> None:
    body = b'{"Status":404,"Message":"nope"}'
    refused = b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    port, thread = serve_once(refused)
    with pytest.raises(HandshakeRefused) as caught:
        WebSocket.connect("127.0.0.1", port, "/", timeout=5)
    assert (caught.value.status, caught.value.body) == (404, body)
    thread.join(5)
    wrong_key = UPGRADE.replace(b"ACCEPT", b"bogus")
    port, thread = serve_once(wrong_key)
    with pytest.raises(WebSocketError, match="accept key"):
        WebSocket.connect("127.0.0.1", port, "/", timeout=5)
    thread.join(5)


def test_a_connection_cut_mid_frame() -> None:
    port, thread = serve_once(UPGRADE, server_frame(0x1, b"whole")[:4], hang_up=True)
    with (
        WebSocket.connect("127.0.0.1", port, "/", timeout=5) as ws,
        pytest.raises(WebSocketError, match="closed mid-message"),
    ):
        list(ws.messages())
    thread.join(5)


def test_client_frames_are_masked() -> None:
    frame = encode_frame(0x1, b"abc", mask=b"\x01\x02\x03\x04")
    assert frame[:2] == bytes([0x81, 0x83])
    assert frame[2:6] == b"\x01\x02\x03\x04"
    assert frame[6:] == bytes([ord("a") ^ 1, ord("b") ^ 2, ord("c") ^ 3])
    assert encode_frame(0x2, b"x" * 70_000)[1] == 0x80 | 127
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
