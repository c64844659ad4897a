"""The compute node's own record of its executions, and its outbox.

An execution is recorded when this node bids on it, so a restart knows
what it had promised. Every update for a requester goes into the outbox
before it is sent and leaves it only once the requester acknowledged it,
so no result is lost when either side restarts.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..models.execution import Execution
from ..models.states import ExecutionStateType
from ..models.wire import ExecutionUpdate
from ..threads import SerialWorker
from .exceptions import ComputeStoreUnavailable

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS local_executions (
    id          TEXT PRIMARY KEY,
    requester   TEXT NOT NULL,
    state       INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    requester   TEXT NOT NULL,
    body        TEXT NOT NULL
);
"""


class LocalExecutions:
    """SQLite-backed executions and outbox; every call runs off the trio loop."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._worker = SerialWorker()

    def close(self) -> None:
        self._db.close()

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the store's thread; `ComputeStoreUnavailable` if the
        database or the disk refuses."""

        def run() -> T:
            try:
                return fn(*args)
            except (sqlite3.Error, OSError) as exc:
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise ComputeStoreUnavailable(self.path, str(exc)) from exc

        return await self._worker.run(run)

    async def put(self, execution: Execution, requester: str) -> None:
        await self._call(self._put, execution, requester)

    def _put(self, execution: Execution, requester: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO local_executions VALUES (?, ?, ?, ?)",
            (
                execution.ID,
                requester,
                int(execution.state),
                execution.model_dump_json(),
            ),
        )

    async def set_state(self, execution_id: str, state: ExecutionStateType) -> None:
        await self._call(
            lambda: self._db.execute(
                "UPDATE local_executions SET state = ? WHERE id = ?",
                (int(state), execution_id),
            )
        )

    async def requester_of(self, execution_id: str) -> str | None:
        """The requester that gave this node `execution_id`, if it did."""

        def query() -> str | None:
            row = self._db.execute(
                "SELECT requester FROM local_executions WHERE id = ?", (execution_id,)
            ).fetchone()
            return str(row[0]) if row else None

        return await self._call(query)

    async def unfinished(self) -> list[tuple[Execution, str]]:
        """Executions this node had accepted and not finished, with their requester."""

        def query() -> list[tuple[Execution, str]]:
            rows = self._db.execute(
                "SELECT body, requester FROM local_executions "
                "WHERE state IN (3, 5, 6, 7)"
            ).fetchall()
            return [(Execution.model_validate_json(b), r) for b, r in rows]

        return await self._call(query)

    async def enqueue(self, requester: str, update: ExecutionUpdate) -> int:
        """Persist `update` for delivery; returns its sequence number."""

        def insert() -> int:
            with self._db:
                self._db.execute("BEGIN")
                cur = self._db.execute(
                    "INSERT INTO outbox (requester, body) VALUES (?, ?)",
                    (requester, update.model_dump_json()),
                )
                self._db.execute(
                    "UPDATE local_executions SET state = ? WHERE id = ?",
                    (int(update.State), update.ExecutionID),
                )
            return int(cur.lastrowid or 0)

        return await self._call(insert)

    async def delivered(self, seqs: list[int]) -> None:
        """Forget updates the requester acknowledged."""

        def delete() -> None:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs]
                )

        await self._call(delete)

    async def pending(self) -> list[tuple[int, str, ExecutionUpdate]]:
        def query() -> list[tuple[int, str, ExecutionUpdate]]:
            rows = self._db.execute(
                "SELECT seq, requester, body FROM outbox ORDER BY seq"
            ).fetchall()
            return [(s, r, ExecutionUpdate.model_validate_json(b)) for s, r, b in rows]

        return await self._call(query)
