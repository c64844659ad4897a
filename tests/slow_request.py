"""A request kept in flight on purpose: its head and half its body are sent,
the rest only when the test says so (the API waits for a stalled body up to
its body timeout). Used to stop a node while a request is in flight."""

from __future__ import annotations

import json
import socket

JOB_PATH = "/api/v1/orchestrator/jobs"


def put_head(host: str, port: int, body: bytes) -> bytes:
    return (
        f"PUT {JOB_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def submission(job: dict[str, object]) -> bytes:
    return json.dumps({"Job": job}).encode()


def status_of(raw: bytes) -> int:
    """The status code of a raw HTTP/1.1 response."""
    return int(raw.split(b" ", 2)[1])


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
