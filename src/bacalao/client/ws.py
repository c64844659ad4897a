"""A small blocking WebSocket client (RFC 6455), standard library only.

Enough for the logs endpoint: the client handshake, reading text messages
(fragmented or not), answering pings, and closing. Frames we send are
masked, as a client's must be; a server's frames are not.

    with WebSocket.connect("127.0.0.1", 1234, "/path?q=1", timeout=30) as ws:
        for text in ws.messages():
            ...

A handshake answered with anything but 101 raises `HandshakeRefused`
carrying the status and body, so the caller can report the API's error.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import struct
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 64 * 1024
MAX_MESSAGE = 16 * 1024 * 1024

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


class WebSocketError(OSError):
    """Raised when the peer breaks the protocol or the connection drops."""


class HandshakeRefused(WebSocketError):
    """Raised when the server answers the upgrade with an HTTP status."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"the server refused the WebSocket upgrade: HTTP {status}")
        self.status = status
        self.body = body


def accept_key(key: str) -> str:
    """The `Sec-WebSocket-Accept` a server must answer `key` with."""
    digest = hashlib.sha1((key + GUID).encode()).digest()
    return base64.b64encode(digest).decode()


def encode_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final frame; masked with `mask` (4 bytes, random if None)."""
    mask = os.urandom(4) if mask is None else mask
    size = len(payload)
    head = bytes([0x80 | opcode])
    if size < 126:
        head += bytes([0x80 | size])
    elif size < 2**16:
        head += bytes([0x80 | 126]) + struct.pack("!H", size)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", size)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class WebSocket:
    """One open connection; iterate `messages()`, then `close()`."""

    def __init__(self, sock: socket.socket, buffered: bytes = b"") -> None:
        self._sock = sock
        self._buffer = bytearray(buffered)
        self.close_code: int | None = None

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        target: str,
        *,
        timeout: float | None,
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> WebSocket:
        """Open a TCP (or, with `ssl_context`, TLS) connection and upgrade it;
        `HandshakeRefused` if the answer is not 101."""
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            if ssl_context is not None:
                sock = ssl_context.wrap_socket(sock, server_hostname=host)
            return cls._handshake(sock, host, port, target, headers or {})
        except BaseException:
            sock.close()
            raise

    @classmethod
    def _handshake(
        cls,
        sock: socket.socket,
        host: str,
        port: int,
        target: str,
        headers: Mapping[str, str],
    ) -> WebSocket:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        ws = cls(sock)
        status, reply = ws._read_head()
        if status != 101:
            size = int(reply.get("content-length", "0") or 0)
            raise HandshakeRefused(status, ws._read_exactly(min(size, MAX_HEADER)))
        if reply.get("sec-websocket-accept") != accept_key(key):
            raise WebSocketError("the server answered with a wrong accept key")
        return ws

    def _read_head(self) -> tuple[int, dict[str, str]]:
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > MAX_HEADER:
                raise WebSocketError("the server's answer has no end of headers")
            self._fill()
        head, _, rest = bytes(self._buffer).partition(b"\r\n\r\n")
        self._buffer = bytearray(rest)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise WebSocketError(f"not an HTTP answer: {status_line!r}")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    def _fill(self) -> None:
        data = self._sock.recv(65536)
        if not data:
            raise WebSocketError("the connection closed mid-message")
        self._buffer += data

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        first, second = self._read_exactly(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._read_exactly(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._read_exactly(8))
        if size > MAX_MESSAGE:
            raise WebSocketError(f"a frame of {size} bytes is too large")
        mask = self._read_exactly(4) if second & 0x80 else b""
        payload = self._read_exactly(size)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def messages(self) -> Iterator[str]:
        """Each text (or binary, decoded) message until the server closes."""
        parts: list[bytes] = []
        while True:
            final, opcode, payload = self._read_frame()
            if opcode == OP_PING:
                self._sock.sendall(encode_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                self._closed_by_peer(payload)
                return
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
                parts.append(payload)
                if final:
                    yield b"".join(parts).decode("utf-8", "replace")
                    parts = []

    def _closed_by_peer(self, payload: bytes) -> None:
        self.close_code = struct.unpack("!H", payload[:2])[0] if payload else 1005
        with contextlib.suppress(OSError):
            self._sock.sendall(encode_frame(OP_CLOSE, payload[:2]))

    def close(self) -> None:
        """Say goodbye (if the peer has not) and drop the connection."""
        if self.close_code is None:
            with contextlib.suppress(OSError):
                self._sock.sendall(encode_frame(OP_CLOSE, struct.pack("!H", 1000)))
        self._sock.close()

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = [
    "HandshakeRefused",
    "WebSocket",
    "WebSocketError",
    "accept_key",
    "encode_frame",
]
