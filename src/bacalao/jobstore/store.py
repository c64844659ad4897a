"""`JobStore`: the async, group-committing face of the SQLite job store.

Every call runs in the store's one worker thread (a `SerialWorker`), never
on the trio loop. Writes are group-committed: changes that arrive while a
write is under way go to disk together in the next transaction, so a
burst of jobs costs a few thread hops and commits, not one per change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import trio

from ..models.execution import Execution
from ..models.history import JobHistory
from ..models.job import Job
from ..models.wire import JobSnapshot
from ..threads import SerialWorker
from .exceptions import StoreError
from .sqlite import Change, SqliteStore


@dataclass
class _Pending:
    changes: Sequence[Change]
    done: trio.Event = field(default_factory=trio.Event)
    error: BaseException | None = None


class JobStore:
    """Jobs, executions and history of one node, read and written from trio."""

    def __init__(self, store: SqliteStore, worker: SerialWorker | None = None) -> None:
        self._sqlite = store
        self._worker = worker or SerialWorker()
        self._queue: list[_Pending] = []
        self._writing = False
        # told of every write batch: (seconds, changes written)
        self.on_commit: Callable[[float, int], None] = lambda _s, _n: None

    @classmethod
    def open(cls, path: Path | str, requester_id: str) -> JobStore:
        """The store in the SQLite file at `path` (made if missing), for the
        node `requester_id` (the jobs it owns are those it requested)."""
        return cls(SqliteStore(path, requester_id))

    @property
    def refused(self) -> int:
        """Replica snapshots refused for who sent them."""
        return self._sqlite.refused

    def close(self) -> None:
        self._worker.run_blocking(self._sqlite.close)

    def load_memberships(self) -> dict[str, str]:
        """Approval decisions an operator made (blocking: for start-up)."""
        return self._worker.run_blocking(self._sqlite.memberships)

    # -- writes -----------------------------------------------------------

    async def apply(self, *changes: Change) -> None:
        """Persist `changes` (in one transaction with whatever else is queued)."""
        mine = _Pending(changes)
        self._queue.append(mine)
        if not self._writing:
            await self._write_queued()
        await mine.done.wait()
        if mine.error is not None:
            raise mine.error

    async def _write_queued(self) -> None:
        self._writing = True
        try:
            # shielded: a cancelled caller must not strand the others' writes
            with trio.CancelScope(shield=True):
                while self._queue:
                    batch, self._queue = self._queue, []
                    await self._write_batch(batch)
        finally:
            self._writing = False

    async def _write_batch(self, batch: list[_Pending]) -> None:
        """One transaction for the batch; if its content is refused, each
        change again on its own, so only the faulty one fails."""
        everything = [c for pending in batch for c in pending.changes]
        try:
            began = trio.current_time()
            await self._worker.run(self._sqlite.apply, everything)
            self.on_commit(trio.current_time() - began, len(everything))
        except StoreError as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for pending in batch:
                    await self._write_batch([pending])
        except Exception as exc:  # StorageUnavailable: nothing could be written
            for pending in batch:
                pending.error = exc
        for pending in batch:
            pending.done.set()

    async def put_snapshots(self, snapshots: list[JobSnapshot]) -> list[str]:
        """Keep the newer of each replica; the IDs that changed."""
        return await self._worker.run(self._sqlite.put_snapshots, snapshots)

    async def set_membership(self, node_id: str, state: str | None) -> None:
        """Keep an approval decision (None: forget the node)."""
        await self._worker.run(self._sqlite.set_membership, node_id, state)

    # -- reads ------------------------------------------------------------

    async def get_job(self, job_id: str) -> Job | None:
        return await self._worker.run(self._sqlite.get_job, job_id)

    async def versions(self, job_id: str) -> list[Job]:
        """Every version of the job kept here, oldest first."""
        return await self._worker.run(self._sqlite.versions, job_id)

    async def jobs_named(self, name: str, namespace: str) -> list[Job]:
        """Jobs called `name` in `namespace`, newest first."""
        return await self._worker.run(self._sqlite.jobs_named, name, namespace)

    async def resolve_id(self, prefix: str) -> str | None:
        """The full job ID starting with `prefix`; `AmbiguousID` if several."""
        return await self._worker.run(self._sqlite.resolve_id, prefix)

    async def requester_of(self, job_id: str) -> str | None:
        return await self._worker.run(self._sqlite.requester_of, job_id)

    async def list_jobs(
        self,
        *,
        namespace: str | None = None,
        order_by: str = "create_time",
        reverse: bool = False,
        where: Callable[[Job], bool] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Job], bool]:
        """Jobs in order; True as second value when more follow."""
        return await self._worker.run(
            self._sqlite.list_jobs,
            namespace=namespace,
            order_by=order_by,
            reverse=reverse,
            where=where,
            offset=offset,
            limit=limit,
        )

    async def executions(self, job_id: str) -> list[Execution]:
        return await self._worker.run(self._sqlite.executions, job_id)

    async def history(self, job_id: str) -> list[JobHistory]:
        return await self._worker.run(self._sqlite.history, job_id)

    async def snapshot(self, job_id: str) -> JobSnapshot | None:
        return await self._worker.run(self._sqlite.snapshot, job_id)

    async def owned_snapshots(self, job_ids: Iterable[str]) -> list[JobSnapshot]:
        """Snapshots of those of `job_ids` this node owns."""
        return await self._worker.run(self._sqlite.owned_snapshots, list(job_ids))

    async def owned_jobs_since(
        self, since: int, limit: int
    ) -> tuple[list[JobSnapshot], bool]:
        """Owned jobs changed after `since`, oldest first; True if more follow."""
        return await self._worker.run(self._sqlite.owned_jobs_since, since, limit)

    async def owned_active_job_ids(self) -> list[str]:
        return await self._worker.run(self._sqlite.owned_active_job_ids)
