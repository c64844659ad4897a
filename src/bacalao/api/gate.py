"""`RequestGate`: the API's requests in flight, and the door for new ones.

While the node runs, every HTTP request and WebSocket session passes
through `admit()`, which counts it until it is answered. When the node
stops with a grace period it `close()`s the gate: new requests are
answered 503 "node is shutting down" while the ones already in flight run
on, and `wait_idle()` returns once the last answer is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import trio

from .errors import ShuttingDown


class RequestGate:
    """Counts the API's requests in flight; once closed, refuses new ones."""

    def __init__(self) -> None:
        self._open = True
        self._in_flight = 0
        self._idle = trio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def closed(self) -> bool:
        return not self._open

    def close(self) -> None:
        """Refuse every request from now on (those in flight finish)."""
        self._open = False

    @contextmanager
    def admit(self) -> Iterator[ShuttingDown | None]:
        """Count a request until it is answered; yields None, or once the
        gate is closed the `ShuttingDown` error to answer it with."""
        refusal = None
        if not self._open:
            refusal = ShuttingDown("node is shutting down", hint="try another node")
        if self._in_flight == 0:
            self._idle = trio.Event()
        self._in_flight += 1
        try:
            yield refusal
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no request is in flight."""
        while self._in_flight:
            await self._idle.wait()


__all__ = ["RequestGate"]
