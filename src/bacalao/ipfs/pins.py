"""The pin set: roots whose whole DAG the blockstore keeps through gc.

Pins are recursive (the root and everything it links to) and persisted in
SQLite (`REPO/ipfs/pins.db`). Every method blocks: the blockstore calls
them from worker threads, one at a time.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..threads import SerialWorker
from .cid import CID

SCHEMA = """
CREATE TABLE IF NOT EXISTS pins (
    cid      TEXT PRIMARY KEY,
    name     TEXT NOT NULL DEFAULT '',
    created  REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Pin:
    """A recursive pin: its root, an optional label, when it was made."""

    cid: CID
    name: str
    created: float


class Pins:
    """Recursive pins in SQLite; thread-safe, blocking."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._worker = SerialWorker()

    def close(self) -> None:
        self._worker.run_blocking(self._db.close)

    def add(self, cid: CID, name: str = "") -> None:
        self._worker.run_blocking(self._add, cid, name)

    def _add(self, cid: CID, name: str) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO pins VALUES (?, ?, ?) ON CONFLICT(cid) DO UPDATE "
                "SET name = excluded.name WHERE excluded.name != ''",
                (str(cid), name, time.time()),
            )

    def remove(self, cid: CID) -> bool:
        """Unpin `cid`; False if it was not pinned."""
        return self._worker.run_blocking(self._remove, cid)

    def _remove(self, cid: CID) -> bool:
        with self._db:
            cursor = self._db.execute("DELETE FROM pins WHERE cid = ?", (str(cid),))
        return cursor.rowcount > 0

    def _rows(self) -> list[tuple[str, str, float]]:
        return self._db.execute(
            "SELECT cid, name, created FROM pins ORDER BY created, cid"
        ).fetchall()

    def list(self) -> list[Pin]:
        rows = self._worker.run_blocking(self._rows)
        return [Pin(CID.parse(cid), name, created) for cid, name, created in rows]
