"""The job store's SQLite half: schema, transactions, reads and writes.

One store per node holds the jobs this node owns (it is their requester)
and replicas of every other job in the network (the shared view, fed by
job-events gossip and state sync). Owned jobs change only through `apply`,
which writes a job, its executions and the history events that explain
the change in one transaction. Replicas change only through
`put_snapshots`, which keeps a snapshot only if it is newer than the one
stored.

`SqliteStore` blocks; use it through `JobStore` (store.py), which runs it
in one worker thread, never on the trio loop.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models.execution import Execution
from ..models.history import JobHistory
from ..models.job import Job
from ..models.wire import JobSnapshot
from . import versions
from .exceptions import AmbiguousID, StorageUnavailable, StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    namespace   TEXT NOT NULL,
    state       INTEGER NOT NULL,
    requester   TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    modify_time INTEGER NOT NULL,
    revision    INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_create ON jobs (create_time);
CREATE INDEX IF NOT EXISTS jobs_by_requester_state ON jobs (requester, state);
CREATE TABLE IF NOT EXISTS executions (
    id          TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    state       INTEGER NOT NULL,
    create_time INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_job ON executions (job_id);
CREATE TABLE IF NOT EXISTS node_membership (
    node_id     TEXT PRIMARY KEY,
    state       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    job_id  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
"""


@dataclass
class Change:
    """One atomic write to an owned job: the job, executions, new events."""

    job: Job | None = None
    executions: list[Execution] = field(default_factory=list)
    events: list[JobHistory] = field(default_factory=list)


class SqliteStore:
    """Synchronous SQLite access; use through `JobStore`."""

    def __init__(self, path: Path | str, requester_id: str) -> None:
        self.requester_id = requester_id
        self.path = str(path)
        self.refused = 0  # replica snapshots refused for who sent them
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._db.executescript(versions.SCHEMA)

    def close(self) -> None:
        self._db.close()

    # -- writes ---------------------------------------------------------

    def apply(self, changes: Sequence[Change]) -> None:
        """Write `changes` in one transaction, or none of them.

        Raises `StorageUnavailable` when the disk refuses the write (full,
        I/O error, read-only) and `StoreError` when the content is at fault.
        """
        with self._translated(), self._transaction():
            for change in changes:
                if change.job is not None:
                    self._put_job(change.job, self.requester_id)
                for execution in change.executions:
                    self._put_execution(execution)
                for event in change.events:
                    self._put_event(event)

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            if _is_storage_fault(exc):
                raise StorageUnavailable(self.path, str(exc)) from exc
            raise StoreError(f"the store refused a change: {exc}") from exc
        except (ValueError, TypeError, RecursionError) as exc:
            raise StoreError(f"a change could not be encoded: {exc}") from exc

    def put_snapshots(self, snapshots: Iterable[JobSnapshot]) -> list[str]:
        """Store the newer of each snapshot; return the IDs that changed.

        A job is bound to the first requester seen for it (and job IDs are
        bound to their requester by construction, see `ids.bound_job_id`):
        a snapshot from any other requester is skipped and counted in
        `refused`, as is one whose executions belong to another job.
        """
        changed: list[str] = []
        with self._translated(), self._transaction():
            for snap in snapshots:
                if snap.RequesterID == self.requester_id or not self._is_newer(
                    snap.Job
                ):
                    continue
                owner = self.requester_of(snap.Job.ID)
                if owner is not None and owner != snap.RequesterID:
                    self.refused += 1  # nobody else may speak for a job
                    continue
                if not self._executions_are_its_own(snap):
                    self.refused += 1
                    continue
                self._put_job(snap.Job, snap.RequesterID)
                versions.put_versions(self._db, snap.Job.ID, snap.Versions)
                for execution in snap.Executions:
                    self._put_execution(execution)
                for event in snap.History:
                    self._put_event(event)
                changed.append(snap.Job.ID)
        return changed

    def _executions_are_its_own(self, snap: JobSnapshot) -> bool:
        ids = [e.ID for e in snap.Executions]
        if not ids:
            return True
        marks = ",".join("?" * len(ids))
        other = self._db.execute(
            f"SELECT 1 FROM executions WHERE id IN ({marks}) AND job_id != ?",
            (*ids, snap.Job.ID),
        ).fetchone()
        return other is None

    def _is_newer(self, job: Job) -> bool:
        row = self._db.execute(
            "SELECT revision, modify_time FROM jobs WHERE id = ?", (job.ID,)
        ).fetchone()
        return row is None or (job.Revision, job.ModifyTime) > (row[0], row[1])

    def _put_job(self, job: Job, requester: str) -> None:
        if job.Version > 1:
            versions.keep_outgoing_version(self._db, job)
        self._db.execute(
            "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.ID,
                job.Namespace,
                int(job.State.StateType),
                requester,
                job.CreateTime,
                job.ModifyTime,
                job.Revision,
                job.model_dump_json(),
            ),
        )

    def _put_execution(self, execution: Execution) -> None:
        stored = execution.model_copy(update={"Job": None})
        self._db.execute(
            "INSERT OR REPLACE INTO executions VALUES (?, ?, ?, ?, ?, ?)",
            (
                execution.ID,
                execution.JobID,
                execution.NodeID,
                int(execution.state),
                execution.CreateTime,
                stored.model_dump_json(),
            ),
        )

    def _put_event(self, event: JobHistory) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO history VALUES (?, ?, ?)",
            (event.JobID, event.SeqNum, event.model_dump_json()),
        )

    # -- reads ----------------------------------------------------------

    def get_job(self, job_id: str) -> Job | None:
        row = self._db.execute(
            "SELECT body FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        return Job.model_validate_json(row[0]) if row else None

    def versions(self, job_id: str) -> list[Job]:
        """Every version of the job kept here, oldest first (none if unknown)."""
        job = self.get_job(job_id)
        if job is None:
            return []
        return [*versions.earlier_versions(self._db, job_id), job]

    def jobs_named(self, name: str, namespace: str) -> list[Job]:
        """Jobs called `name` in `namespace`, newest first (names are unique
        per namespace; more than one is an old store, or a race between two
        requesters)."""
        return versions.jobs_named(self._db, name, namespace)

    def resolve_id(self, prefix: str) -> str | None:
        """The full job ID starting with `prefix`; `AmbiguousID` if several."""
        if self._db.execute("SELECT 1 FROM jobs WHERE id = ?", (prefix,)).fetchone():
            return prefix
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._db.execute(
            "SELECT id FROM jobs WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 6",
            (pattern + "%",),
        ).fetchall()
        if len(rows) > 1:
            raise AmbiguousID(prefix, [r[0] for r in rows])
        return rows[0][0] if rows else None

    def requester_of(self, job_id: str) -> str | None:
        row = self._db.execute(
            "SELECT requester FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        return row[0] if row else None

    def list_jobs(
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
        column = {
            "created_at": "create_time",
            "create_time": "create_time",
            "modify_time": "modify_time",
            "id": "id",
            "state": "state",
        }.get(order_by, "create_time")
        direction = "DESC" if reverse else "ASC"
        sql = (
            f"SELECT body FROM jobs {{}} ORDER BY {column} {direction}, id {direction}"
        )
        params: list[Any] = []
        clause = ""
        if namespace:
            clause = "WHERE namespace = ?"
            params.append(namespace)
        jobs: list[Job] = []
        skipped = 0
        for (body,) in self._db.execute(sql.format(clause), params):
            job = Job.model_validate_json(body)
            if where is not None and not where(job):
                continue
            if skipped < offset:
                skipped += 1
                continue
            if len(jobs) == limit:
                return jobs, True
            jobs.append(job)
        return jobs, False

    def executions(self, job_id: str) -> list[Execution]:
        rows = self._db.execute(
            "SELECT body FROM executions WHERE job_id = ? ORDER BY create_time, id",
            (job_id,),
        ).fetchall()
        return [Execution.model_validate_json(r[0]) for r in rows]

    def history(self, job_id: str) -> list[JobHistory]:
        rows = self._db.execute(
            "SELECT body FROM history WHERE job_id = ? ORDER BY seq", (job_id,)
        ).fetchall()
        return [JobHistory.model_validate_json(r[0]) for r in rows]

    def snapshot(self, job_id: str) -> JobSnapshot | None:
        job = self.get_job(job_id)
        requester = self.requester_of(job_id)
        if job is None or requester is None:
            return None
        return JobSnapshot(
            RequesterID=requester,
            Job=job,
            Executions=self.executions(job_id),
            History=self.history(job_id),
            Versions=versions.earlier_versions(self._db, job_id),
        )

    def owned_jobs_since(
        self, since: int, limit: int
    ) -> tuple[list[JobSnapshot], bool]:
        """Owned jobs changed after `since`, oldest first; True if more follow.

        A page never ends between jobs with the same ModifyTime, so the next
        page can start after the newest ModifyTime of this one.
        """
        rows = self._db.execute(
            "SELECT id, modify_time FROM jobs WHERE requester = ? "
            "AND modify_time > ? ORDER BY modify_time, id",
            (self.requester_id, since),
        )
        ids: list[str] = []
        more = False
        last = None
        for job_id, modify_time in rows:
            if len(ids) >= limit and modify_time != last:
                more = True
                break
            ids.append(job_id)
            last = modify_time
        snaps = [s for job_id in ids if (s := self.snapshot(job_id)) is not None]
        return snaps, more

    def memberships(self) -> dict[str, str]:
        """Approval decisions an operator made: node ID -> APPROVED/REJECTED."""
        rows = self._db.execute("SELECT node_id, state FROM node_membership")
        return {node_id: state for node_id, state in rows}

    def set_membership(self, node_id: str, state: str | None) -> None:
        """Keep an approval decision (None: forget the node)."""
        with self._translated():
            if state is None:
                self._db.execute(
                    "DELETE FROM node_membership WHERE node_id = ?", (node_id,)
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO node_membership VALUES (?, ?)",
                    (node_id, state),
                )

    def owned_snapshots(self, job_ids: Iterable[str]) -> list[JobSnapshot]:
        """Snapshots of those of `job_ids` this node owns."""
        snaps = []
        for job_id in job_ids:
            if self.requester_of(job_id) == self.requester_id:
                snap = self.snapshot(job_id)
                if snap is not None:
                    snaps.append(snap)
        return snaps

    def owned_active_job_ids(self) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM jobs WHERE requester = ? AND state IN (0, 1, 2, 3)",
            (self.requester_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._rollback()
                raise
        self._rollback()

    def _rollback(self) -> None:
        # SQLite may have rolled back already (e.g. on a full disk)
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


_STORAGE_FAULTS = ("full", "i/o", "readonly", "read-only", "unable to open", "locked")


def _is_storage_fault(exc: sqlite3.Error) -> bool:
    """True for errors of the disk, not of the data (those pass with time)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and any(
        fault in text for fault in _STORAGE_FAULTS
    )
