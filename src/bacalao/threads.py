"""`SerialWorker`: blocking calls on state that allows one caller at a time.

SQLite connections and the files next to them are used from worker
threads, never from the trio loop, and never by two threads at once. A
`SerialWorker` gives both halves of that rule: `run` sends a call to a
worker thread from trio (one such thread at a time), and `run_blocking`
makes a call from any thread wait its turn behind the others.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import trio

T = TypeVar("T")
P = ParamSpec("P")


class SerialWorker:
    """Runs blocking calls one at a time, off the trio loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limiter = trio.CapacityLimiter(1)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call `fn` in a worker thread, after every call queued before it."""
        call = functools.partial(self.run_blocking, fn, *args, **kwargs)
        return await trio.to_thread.run_sync(call, limiter=self._limiter)

    def run_blocking(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call `fn` in this thread once no other call is under way."""
        with self._lock:
            return fn(*args, **kwargs)


__all__ = ["SerialWorker"]
