"""Length-prefixed frames: the byte format of every direct stream.

A frame is a 4-byte big-endian length followed by that many bytes of JSON.
`FrameDecoder` is a state machine with no I/O: feed it bytes, take frames
out. `read_frame` / `write_frame` are the thin async wrappers over a stream.
"""

from __future__ import annotations

import struct
from typing import Protocol

from .exceptions import CodecError, FrameTooLarge

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 16 * 1024 * 1024


def encode_frame(payload: bytes, *, limit: int = MAX_FRAME_BYTES) -> bytes:
    """Return `payload` with its length header; refuse payloads over `limit`."""
    if len(payload) > limit:
        raise FrameTooLarge(f"frame of {len(payload)} bytes exceeds {limit}")
    return HEADER.pack(len(payload)) + payload


class FrameDecoder:
    """Turns a byte stream into frames; raises `CodecError` on garbage."""

    def __init__(self, *, limit: int = MAX_FRAME_BYTES) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self._frames: list[bytes] = []

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self._buffer)
            if length > self._limit:
                raise FrameTooLarge(f"frame header announces {length} bytes")
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            self._frames.append(bytes(self._buffer[HEADER.size : end]))
            del self._buffer[:end]

    def next_frame(self) -> bytes | None:
        """Pop the oldest complete frame, or None when none is complete."""
        return self._frames.pop(0) if self._frames else None

    @property
    def pending_bytes(self) -> int:
        return len(self._buffer)


class ByteStream(Protocol):
    async def read(self, n: int | None = None) -> bytes: ...
    async def write(self, data: bytes) -> None: ...


async def read_frame(stream: ByteStream, *, limit: int = MAX_FRAME_BYTES) -> bytes:
    """Read exactly one frame; `CodecError` if the stream ends mid-frame."""
    header = await _read_exactly(stream, HEADER.size)
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise FrameTooLarge(f"frame header announces {length} bytes")
    return await _read_exactly(stream, length)


async def read_next_frame(
    stream: ByteStream, *, limit: int = MAX_FRAME_BYTES
) -> bytes | None:
    """One frame, or None if the stream ends cleanly before the next one."""
    try:
        first = await stream.read(HEADER.size)
    except EOFError:
        return None
    if not first:
        return None
    header = first + await _read_exactly(stream, HEADER.size - len(first))
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise FrameTooLarge(f"frame header announces {length} bytes")
    return await _read_exactly(stream, length)


async def write_frame(stream: ByteStream, payload: bytes) -> None:
    await stream.write(encode_frame(payload))


async def _read_exactly(stream: ByteStream, n: int) -> bytes:
    chunks: list[bytes] = []
    missing = n
    while missing:
        try:
            chunk = await stream.read(missing)
        except EOFError:
            chunk = b""
        if not chunk:
            raise CodecError(f"stream ended {missing} bytes short of a frame")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
