"""Write blocks from several threads at once, with a bound on what is queued.

Creating a file costs about a millisecond of waiting on this kind of disk,
and one block is one file, so an importer that wrote each block itself
would spend most of its time waiting. `ParallelWriter` is a `BlockSink`
that hands each block to a small pool of threads and returns; at most
`pending` blocks wait at once (so memory stays bounded), and the first
failure (a full disk, say) is raised by the next `put_block` and by
`close`, which waits for every write to finish.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from .blocks import BlockSink
from .cid import CID


class ParallelWriter:
    """A `BlockSink` that writes through `sink` on `threads` threads."""

    def __init__(self, sink: BlockSink, *, threads: int = 4, pending: int = 16):
        self._sink = sink
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="ipfs-write")
        self._slots = threading.BoundedSemaphore(pending)
        self._error: BaseException | None = None

    def put_block(self, cid: CID, data: bytes) -> None:
        self._raise_failure()
        self._slots.acquire()
        try:
            future = self._pool.submit(self._sink.put_block, cid, data)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        self._slots.release()
        error = future.exception()
        if error is not None and self._error is None:
            self._error = error

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Wait for every queued write; raise the first failure."""
        self._pool.shutdown(wait=True)
        self._raise_failure()

    def __enter__(self) -> ParallelWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True)
        if exc is None:
            self._raise_failure()
