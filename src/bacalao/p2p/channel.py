"""Multiplexed request channels: many calls on one long-lived stream per peer.

Opening a libp2p stream costs a protocol negotiation round trip (~5 ms
here), more than a small call itself. So each node keeps, per peer it
calls, one stream on `MUX_PROTOCOL` and sends every request on it, tagged
with an ID; the peer answers each on the same stream, in any order.

    request frame:  b"Q" u32 id  u16 len  method  body
    answer frame:   b"A" u32 id  answer            (see rpc.py)

If the stream breaks, every call waiting on it fails with `PeerUnreachable`
and the next call opens a new stream.
"""

from __future__ import annotations

import errno
import logging
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID

from .codec import read_next_frame, write_frame
from .exceptions import CodecError, PeerUnreachable

log = logging.getLogger(__name__)

MUX_PROTOCOL = "/bacalao/rpc-mux/1.0.0"
WRITE_LIMIT = 10.0
_REQUEST = struct.Struct(">cIH")
_ANSWER = struct.Struct(">cI")

Dispatch = Callable[[str, str, bytes], Awaitable[bytes]]


def encode_request(call_id: int, method: str, body: bytes) -> bytes:
    name = method.encode()
    return _REQUEST.pack(b"Q", call_id, len(name)) + name + body


def decode_request(frame: bytes) -> tuple[int, str, bytes]:
    """(id, method, body) of a request frame; `CodecError` if it is not one."""
    if len(frame) < _REQUEST.size:
        raise CodecError("request frame too short")
    kind, call_id, size = _REQUEST.unpack_from(frame)
    end = _REQUEST.size + size
    if kind != b"Q" or len(frame) < end:
        raise CodecError("not a request frame")
    try:
        method = frame[_REQUEST.size : end].decode()
    except UnicodeDecodeError:
        raise CodecError("method name is not UTF-8") from None
    return call_id, method, frame[end:]


def encode_answer(call_id: int, answer: bytes) -> bytes:
    return _ANSWER.pack(b"A", call_id) + answer


def decode_answer(frame: bytes) -> tuple[int, bytes]:
    if len(frame) < _ANSWER.size or frame[:1] != b"A":
        raise CodecError("not an answer frame")
    _kind, call_id = _ANSWER.unpack_from(frame)
    return call_id, frame[_ANSWER.size :]


class _Channel:
    """One open stream to a peer and the calls waiting for answers on it."""

    def __init__(self, peer_id: str, stream: Any) -> None:
        self.peer_id = peer_id
        self.stream = stream
        self.broken: str | None = None
        self._next_id = 0
        self._waiting: dict[int, trio.MemorySendChannel[bytes]] = {}
        self._write_lock = trio.Lock()

    async def request(self, method: str, body: bytes) -> bytes:
        self._next_id = (self._next_id + 1) % 2**32
        call_id = self._next_id
        send, receive = trio.open_memory_channel[bytes](1)
        self._waiting[call_id] = send
        try:
            await self._write(encode_request(call_id, method, body))
            try:
                return await receive.receive()
            except trio.EndOfChannel:
                raise PeerUnreachable(
                    self.peer_id, self.broken or "channel closed"
                ) from None
        except (BaseLibp2pError, OSError) as exc:
            self.fail(str(exc) or type(exc).__name__)
            raise PeerUnreachable(self.peer_id, self.broken or "write failed") from exc
        finally:
            self._waiting.pop(call_id, None)

    async def _write(self, frame: bytes) -> None:
        """Write a whole frame, or break the channel: a frame cut short by a
        cancelled caller would garble every frame after it."""
        async with self._write_lock:
            if self.broken is not None:
                raise PeerUnreachable(self.peer_id, self.broken)
            with (
                trio.CancelScope(shield=True),
                trio.move_on_after(WRITE_LIMIT) as scope,
            ):
                await write_frame(self.stream, frame)
            if scope.cancelled_caught:
                self.fail(f"peer did not take a frame within {WRITE_LIMIT:g} s")
                raise PeerUnreachable(self.peer_id, self.broken or "write stalled")

    async def read_answers(self) -> None:
        try:
            while True:
                frame = await read_next_frame(self.stream)
                if frame is None:
                    self.fail("the peer closed the channel")
                    return
                call_id, answer = decode_answer(frame)
                waiter = self._waiting.pop(call_id, None)
                if waiter is not None:
                    waiter.send_nowait(answer)
        except (BaseLibp2pError, OSError, CodecError) as exc:
            self.fail(str(exc) or type(exc).__name__)
        finally:
            self.fail("channel closed")

    def fail(self, reason: str) -> None:
        if self.broken is None:
            self.broken = reason
        for waiter in self._waiting.values():
            waiter.close()
        self._waiting.clear()


class ChannelPool:
    """The caller side: a channel per peer, opened on first use."""

    def __init__(self, host: Any, nursery: trio.Nursery) -> None:
        self._host = host
        self._nursery = nursery
        self._channels: dict[str, _Channel] = {}
        self._opening: dict[str, trio.Lock] = {}

    async def request(self, peer_id: str, method: str, body: bytes) -> bytes:
        channel = await self._channel(peer_id)
        return await channel.request(method, body)

    async def _channel(self, peer_id: str) -> _Channel:
        lock = self._opening.setdefault(peer_id, trio.Lock())
        async with lock:
            channel = self._channels.get(peer_id)
            if channel is not None and channel.broken is None:
                return channel
            try:
                stream = await self._host.new_stream(
                    ID.from_base58(peer_id), [TProtocol(MUX_PROTOCOL)]
                )
            except (BaseLibp2pError, OSError, ValueError) as exc:
                raise PeerUnreachable(
                    peer_id, str(exc) or type(exc).__name__, refused=_refused(exc)
                ) from exc
            channel = _Channel(peer_id, stream)
            self._channels[peer_id] = channel
            self._nursery.start_soon(self._serve_channel, channel)
            return channel

    async def _serve_channel(self, channel: _Channel) -> None:
        try:
            await channel.read_answers()
        finally:
            if self._channels.get(channel.peer_id) is channel:
                del self._channels[channel.peer_id]
            with trio.move_on_after(1):
                try:
                    await channel.stream.reset()
                except Exception:
                    log.debug("reset of a dead channel failed", exc_info=True)


async def _next_request(peer: str, stream: Any) -> tuple[int, str, bytes] | None:
    """The next request on a channel, or None once it ends or turns to junk."""
    try:
        frame = await read_next_frame(stream)
        return None if frame is None else decode_request(frame)
    except (BaseLibp2pError, OSError, CodecError) as exc:
        log.debug("channel from %s closed: %r", peer, exc)
        return None


def serve_channels(host: Any, dispatch: Dispatch) -> None:
    """The callee side: answer every request arriving on a channel stream."""

    async def on_stream(stream: Any) -> None:
        peer = str(stream.muxed_conn.peer_id)
        lock = trio.Lock()

        async def handle(call_id: int, method: str, body: bytes) -> None:
            answer = await dispatch(peer, method, body)
            async with lock:
                with trio.move_on_after(WRITE_LIMIT):
                    try:
                        await write_frame(stream, encode_answer(call_id, answer))
                    except Exception as exc:
                        log.debug("answer to %s not sent: %r", peer, exc)

        try:
            async with trio.open_nursery() as nursery:
                while (request := await _next_request(peer, stream)) is not None:
                    nursery.start_soon(handle, *request)
        finally:
            with trio.move_on_after(1):
                try:
                    await stream.reset()
                except Exception:
                    log.debug("reset of a finished channel failed", exc_info=True)

    host.set_stream_handler(TProtocol(MUX_PROTOCOL), on_stream)


def _refused(exc: BaseException) -> bool:
    """Whether a dial failed because the address refused the connection
    (libp2p wraps the OSError in its own errors, lists and groups)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        err = todo.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ConnectionRefusedError) or (
            isinstance(err, OSError) and err.errno == errno.ECONNREFUSED
        ):
            return True
        if isinstance(err, BaseExceptionGroup):
            todo.extend(err.exceptions)
        todo.extend(getattr(err, "errors", None) or [])  # libp2p's MultiError
        todo.extend(e for e in (err.__cause__, err.__context__) if e is not None)
    return False
