"""Live logs: copy a container's stdout or stderr into a capped file.

A `LogPump` follows one stream of one container in a worker thread and
writes what arrives into the results folder at once, so `job logs -f` can
tail the file while the task runs. The stream ends by itself when the
container stops; `close` ends it early from any thread. A pump never
raises: a broken stream only ends the log early (`error` says why).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import trio

from .output import CappedWriter


class LogPump:
    """Follows one output stream (`stdout` or `stderr`) of a container."""

    def __init__(self, container: Any, stream: str, path: Path, limit: int) -> None:
        self._container = container
        self._stream = stream
        self._path = path
        self._limit = limit
        self._lock = threading.Lock()
        self._source: Any = None
        self._closed = False
        self.truncated = False
        self.error: Exception | None = None
        self.done = trio.Event()

    async def run(self, limiter: trio.CapacityLimiter) -> None:
        """Pump until the stream ends; abandoned (not waited for) on cancel."""
        try:
            await trio.to_thread.run_sync(
                self._pump, abandon_on_cancel=True, limiter=limiter
            )
        finally:
            self.done.set()

    def close(self) -> None:
        """End the stream now (safe from any thread, idempotent)."""
        with self._lock:
            self._closed = True
            source, self._source = self._source, None
        if source is not None:
            with contextlib.suppress(Exception):
                source.close()

    def _pump(self) -> None:
        try:
            source = self._open()
        except Exception as exc:  # the container is gone or the engine is down
            self.error = exc
            return
        if source is None:
            return
        with CappedWriter(self._path, self._limit) as writer:
            try:
                for chunk in source:
                    writer.write(chunk)
            except Exception as exc:  # logs end early; the task's result stands
                self.error = exc
            finally:
                self.truncated = writer.truncated
                self.close()

    def _open(self) -> Any:
        source = self._container.logs(
            stdout=self._stream == "stdout",
            stderr=self._stream == "stderr",
            stream=True,
            follow=True,
        )
        with self._lock:
            if not self._closed:
                self._source = source
                return source
        with contextlib.suppress(Exception):
            source.close()
        return None
