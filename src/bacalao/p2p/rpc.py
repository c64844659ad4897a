"""Request/response over direct libp2p streams, with typed methods.

A `Method` names a protocol ID and the pydantic models of its request and
response. A call sends the request JSON; the handler answers with a status
byte, then the response JSON or an `{"Code", "Message"}` error. Calls
travel on the caller's multiplexed channel to that peer (see channel.py);
streaming methods (e.g. logs) get a stream of their own per call, on their
protocol ID. This is the reliable channel of the design:
everything that must arrive travels here, with a deadline, and callers
that must deliver retry.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import trio
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID
from pydantic import BaseModel, ValidationError

from .channel import ChannelPool, serve_channels
from .codec import read_frame, read_next_frame, write_frame
from .exceptions import CodecError, P2PError, PeerUnreachable, RemoteError, RpcTimeout

log = logging.getLogger(__name__)

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp", bound=BaseModel)

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Method(Generic[Req, Resp]):
    """One RPC: its protocol ID and the models it carries."""

    protocol: str
    request: type[Req]
    response: type[Resp]


class HandlerError(Exception):
    """Raised by a handler to answer with an error the caller can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Handler = Callable[[str, Any], Awaitable[BaseModel]]


class _ErrorBody(BaseModel):
    Code: str
    Message: str


OK = b"\x00"
ERROR = b"\x01"


class Rpc:
    """Serves registered methods on a host and calls methods on peers."""

    def __init__(self, host: Any) -> None:
        self._host = host
        self._self_id = str(host.get_id().to_base58())
        self._local: dict[str, Handler] = {}
        self._methods: dict[str, Method[Any, Any]] = {}
        self._pool: ChannelPool | None = None
        self._nursery: trio.Nursery | None = None
        serve_channels(host, self._dispatch)
        self._streams: dict[str, Callable[[str, Any], AsyncIterator[BaseModel]]] = {}
        # until the node has registered every handler, a method it does not
        # serve yet is "unavailable" (try again), not unknown (give up)
        self._all_registered = False
        # told of every outgoing call: (method protocol, seconds, outcome)
        self.on_call: Callable[[str, float, str], None] = _ignore_call

    def register(
        self,
        method: Method[Req, Resp],
        handler: Callable[[str, Req], Awaitable[Resp]],
    ) -> None:
        """Serve `method`: `handler(peer_id, request)` returns the response."""
        self._local[method.protocol] = handler
        self._methods[method.protocol] = method

    async def call(
        self,
        peer_id: str,
        method: Method[Req, Resp],
        request: Req,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Resp:
        """Send one request and return the peer's response.

        Raises `PeerUnreachable`, `RpcTimeout`, `RemoteError` or `CodecError`.
        A call to this node itself runs the handler directly (libp2p cannot
        dial itself), on a copy of the request, with the same error mapping.
        """
        began = trio.current_time()
        outcome = "cancelled"
        try:
            answer = await self._call(peer_id, method, request, timeout)
            outcome = "ok"
            return answer
        except Exception as exc:
            outcome = _OUTCOMES.get(type(exc), "error")
            raise
        finally:
            self.on_call(method.protocol, trio.current_time() - began, outcome)

    async def _call(
        self, peer_id: str, method: Method[Req, Resp], request: Req, timeout: float
    ) -> Resp:
        payload = request.model_dump_json().encode()
        if peer_id == self._self_id:
            return await self._call_self(method, payload, timeout)
        if self._pool is None:
            raise PeerUnreachable(peer_id, "this node's RPC is not running")
        try:
            with trio.fail_after(timeout):
                raw = await self._pool.request(peer_id, method.protocol, payload)
        except trio.TooSlowError:
            raise RpcTimeout(peer_id, method.protocol, timeout) from None
        return _decode_answer(method, raw)

    async def _call_self(
        self, method: Method[Req, Resp], payload: bytes, timeout: float
    ) -> Resp:
        handler = self._local.get(method.protocol)
        if handler is None:
            raise PeerUnreachable(
                self._self_id, f"protocol {method.protocol} not served here"
            )
        answers: list[bytes] = []
        answered = trio.Event()

        async def answer() -> None:
            try:
                answers.append(
                    await _answer_body(method, handler, self._self_id, payload)
                )
            finally:
                answered.set()

        # As with a remote peer, a caller that gives up does not cancel the
        # handler halfway (it may have remembered an answer it never acted on).
        if self._nursery is None:
            await answer()
        else:
            self._nursery.start_soon(answer)
        try:
            with trio.fail_after(timeout):
                await answered.wait()
        except trio.TooSlowError:
            raise RpcTimeout(self._self_id, method.protocol, timeout) from None
        if not answers:
            raise PeerUnreachable(self._self_id, "this node is stopping")
        return _decode_answer(method, answers[0])

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Keep this node's outgoing channels; calls use one-shot streams until
        this runs."""
        async with trio.open_nursery() as nursery:
            self._pool = ChannelPool(self._host, nursery)
            self._nursery = nursery
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                self._pool = None
                self._nursery = None

    async def _dispatch(self, peer: str, name: str, body: bytes) -> bytes:
        method = self._methods.get(name)
        handler = self._local.get(name)
        if method is None or handler is None:
            if not self._all_registered:
                return _error("unavailable", "this node is still starting")
            return _error("unknown_method", f"{name} is not served by this node")
        return await _answer_body(method, handler, peer, body)

    async def call_with_retry(
        self,
        peer_id: str,
        method: Method[Req, Resp],
        request: Req,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        attempts: float = 5,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> Resp:
        """`call`, retried with exponential backoff on transport failures.

        A `RemoteError` is the peer's considered answer and is not retried.
        `attempts=math.inf` keeps trying until cancelled.
        """
        attempt = 0
        delay = backoff
        while True:
            attempt += 1
            try:
                return await self.call(peer_id, method, request, timeout=timeout)
            except (PeerUnreachable, RpcTimeout, CodecError) as exc:
                if attempt >= attempts:
                    raise
                log.debug(
                    "%s to %s failed (%s); retrying", method.protocol, peer_id, exc
                )
            await trio.sleep(delay)
            delay = min(delay * 2, max_backoff)

    def all_registered(self) -> None:
        """Every part of the node has registered its handlers: a method not
        served now is not served by this node at all."""
        self._all_registered = True

    def register_stream(
        self,
        method: Method[Req, Resp],
        handler: Callable[[str, Req], AsyncIterator[Resp]],
    ) -> None:
        """Serve a streaming method: each item `handler` yields is one frame."""
        self._streams[method.protocol] = handler

        async def on_stream(stream: Any) -> None:
            peer = str(stream.muxed_conn.peer_id)
            try:
                with trio.fail_after(DEFAULT_TIMEOUT):
                    raw = await read_frame(stream)
                async for frame in _stream_answers(method, handler, peer, raw):
                    with trio.fail_after(DEFAULT_TIMEOUT):
                        await write_frame(stream, frame)
                await stream.close()
            except (trio.TooSlowError, BaseLibp2pError, CodecError, OSError) as exc:
                log.debug("%s from %s: stream dropped: %r", method.protocol, peer, exc)
                await _reset_quietly(stream)

        self._host.set_stream_handler(TProtocol(method.protocol), on_stream)

    @asynccontextmanager
    async def open_stream(
        self,
        peer_id: str,
        method: Method[Req, Resp],
        request: Req,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> AsyncIterator[AsyncIterator[Resp]]:
        """Call a streaming method; iterate the responses as they arrive.

        Opening is bounded by `timeout`; waiting for each item is not (a
        followed log may be quiet for long). Errors as for `call`.
        """
        payload = request.model_dump_json().encode()
        if peer_id == self._self_id:
            handler = self._streams.get(method.protocol)
            if handler is None:
                raise PeerUnreachable(peer_id, f"{method.protocol} not served here")
            yield _decoded(method, _stream_answers(method, handler, peer_id, payload))
            return
        try:
            with trio.fail_after(timeout):
                stream = await self._host.new_stream(
                    ID.from_base58(peer_id), [TProtocol(method.protocol)]
                )
                await write_frame(stream, payload)
        except trio.TooSlowError:
            raise RpcTimeout(peer_id, method.protocol, timeout) from None
        except (BaseLibp2pError, OSError, ValueError) as exc:
            raise PeerUnreachable(peer_id, _describe(exc)) from exc
        try:
            yield _decoded(method, _frames(peer_id, stream))
        finally:
            await _reset_quietly(stream)


FOREVER = math.inf


async def _stream_answers(
    method: Method[Any, Any],
    handler: Callable[[str, Any], AsyncIterator[BaseModel]],
    peer: str,
    raw: bytes,
) -> AsyncGenerator[bytes, None]:
    try:
        request = method.request.model_validate_json(raw)
    except ValidationError as exc:
        yield _error("bad_request", _first_error(exc))
        return
    try:
        async for item in handler(peer, request):
            yield OK + item.model_dump_json().encode()
    except HandlerError as exc:
        yield _error(exc.code, exc.message)
    except P2PError as exc:
        yield _error("unavailable", str(exc))


async def _frames(peer_id: str, stream: Any) -> AsyncGenerator[bytes, None]:
    while True:
        try:
            frame = await read_next_frame(stream)
        except (BaseLibp2pError, OSError) as exc:
            raise PeerUnreachable(peer_id, _describe(exc)) from exc
        if frame is None:
            return
        yield frame


async def _decoded(
    method: Method[Any, Resp], frames: AsyncGenerator[bytes, None]
) -> AsyncIterator[Resp]:
    async with aclosing(frames) as arriving:  # closed too when a frame is an error
        async for raw in arriving:
            yield _decode_answer(method, raw)


async def _answer_body(
    method: Method[Any, Any], handler: Handler, peer: str, raw: bytes
) -> bytes:
    try:
        request = method.request.model_validate_json(raw)
    except ValidationError as exc:
        return _error("bad_request", _first_error(exc))
    try:
        response = await handler(peer, request)
    except HandlerError as exc:
        return _error(exc.code, exc.message)
    except P2PError as exc:
        return _error("unavailable", str(exc))
    except Exception:
        log.exception("%s handler failed on a request from %s", method.protocol, peer)
        return _error("internal", "the peer failed to handle the request")
    return OK + response.model_dump_json().encode()


def _decode_answer(method: Method[Any, Resp], raw: bytes) -> Resp:
    status, body = raw[:1], raw[1:]
    try:
        if status == OK:
            return method.response.model_validate_json(body)
        if status == ERROR:
            error = _ErrorBody.model_validate_json(body)
            raise RemoteError(error.Code, error.Message)
    except ValidationError as exc:
        raise CodecError(f"malformed {method.protocol} answer: {exc}") from exc
    raise CodecError(f"{method.protocol} answer has unknown status {status!r}")


_OUTCOMES: dict[type[Exception], str] = {
    RemoteError: "remote_error",
    RpcTimeout: "timeout",
    PeerUnreachable: "unreachable",
}


def _ignore_call(_method: str, _seconds: float, _outcome: str) -> None:
    pass


def _error(code: str, message: str) -> bytes:
    return ERROR + _ErrorBody(Code=code, Message=message).model_dump_json().encode()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "body"
    return f"{where}: {err['msg']}"


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


async def _reset_quietly(stream: Any) -> None:
    with trio.move_on_after(1), contextlib.suppress(Exception):
        await stream.reset()
