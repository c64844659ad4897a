"""Storing a job's change before anything acts on it, through disk faults."""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from ..jobstore import JobStore, StorageUnavailable
from .record import JobRecord

log = logging.getLogger(__name__)

STORE_RETRY = 0.5  # first retry of a write the disk refused; doubles up to:
STORE_RETRY_MAX = 10.0


class Committer:
    """Persists what changed in a record, then tells `on_change`.

    While the disk refuses writes (full, I/O error) a commit retries (the
    job's loop waits; nothing it acknowledged is lost) and
    `storage_problem` says why, for new work to be refused meanwhile.
    """

    def __init__(self, store: JobStore, on_change: Callable[[JobRecord], None]) -> None:
        self.store = store
        self._on_change = on_change
        self.storage_problem = ""

    async def commit(self, record: JobRecord, *, retry: bool = True) -> None:
        """Store the record's change; with `retry=False` a refused write
        raises `StorageUnavailable` instead of waiting for room."""
        change = record.take_change()
        if change.job is None:
            return
        delay = STORE_RETRY
        while True:
            try:
                await self.store.apply(change)
                break
            except StorageUnavailable as exc:
                if self.storage_problem != exc.message:
                    log.error("%s; retrying until it succeeds", exc.message)
                self.storage_problem = exc.message
                if not retry:
                    raise
            await trio.sleep(delay)
            delay = min(delay * 2, STORE_RETRY_MAX)
        if self.storage_problem:
            log.warning("the job store accepts writes again")
            self.storage_problem = ""
        self._on_change(record)
