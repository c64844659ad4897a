"""The one place asyncio meets trio: an asyncio loop in a thread of its own.

aioboto3 is asyncio; the node is trio. `AsyncioThread` runs one asyncio
event loop in a daemon thread, and trio code awaits coroutines on it:

    loop = AsyncioThread()
    loop.start()
    size = await loop.run(lambda: fetch_to_disk(...))   # a coroutine function
    loop.close()

Why a thread and not trio-asyncio: S3 transfers spend their CPU in
signing, checksums, XML parsing and file writes. In a thread of its own
that work never holds up the trio loop (libp2p, the API), and disk writes
may block the asyncio loop without blocking the node; under trio-asyncio
the same work runs on the trio thread (see scripts/bench/aio_adapters.py
for the measurement).

`run` waits without holding a trio worker thread; a trio cancellation
cancels the asyncio task and waits (bounded) until it has unwound, so
files it had open are closed before `run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import outcome
import trio

T = TypeVar("T")
UNWIND_TIMEOUT = 10.0


class LoopClosed(RuntimeError):
    """Raised by `AsyncioThread.run` when the loop is not running."""


class AsyncioThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self, name: str = "bacalao-asyncio") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_running()

    def start(self) -> None:
        """Start the thread and its loop (returns once the loop runs)."""
        if self._thread is not None:
            return
        ready = threading.Event()
        made: list[asyncio.AbstractEventLoop] = []

        def serve() -> None:
            # made in its own thread: the caller's may be a trio thread
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            made.append(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=serve, name=self._name, daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = made[0]

    def close(self) -> None:
        """Cancel what still runs on the loop, stop it and join the thread.

        Blocking: from trio, call it through `trio.to_thread.run_sync`.
        """
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(UNWIND_TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(UNWIND_TIMEOUT)
        self._loop = self._thread = None

    async def run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Await `make()` on the asyncio loop from trio; cancellable."""
        loop = self._loop
        if loop is None or not loop.is_running():
            raise LoopClosed("the node's asyncio loop is not running")
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()
        box: dict[str, Any] = {}

        def finished(task: asyncio.Task[T]) -> None:
            box["outcome"] = outcome.capture(task.result)
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(done.set)

        def start() -> None:
            box["task"] = task = loop.create_task(make())
            task.add_done_callback(finished)

        loop.call_soon_threadsafe(start)
        try:
            await done.wait()
        finally:
            if not done.is_set():
                # FIFO: `start` has run on the loop before this does
                loop.call_soon_threadsafe(lambda: box["task"].cancel())
                with trio.move_on_after(UNWIND_TIMEOUT) as scope:
                    scope.shield = True
                    await done.wait()
        result: outcome.Outcome[T] = box["outcome"]
        if isinstance(result, outcome.Error) and isinstance(
            result.error, asyncio.CancelledError
        ):
            raise LoopClosed("the node's asyncio loop stopped during the call")
        return result.unwrap()


async def _cancel_all() -> None:
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
