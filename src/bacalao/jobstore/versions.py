"""Earlier versions of jobs, and jobs by name, in the job store's database.

The `jobs` table holds each job as it is now. When a job is written at a
new Version, the row it replaces (the outgoing version as it last was) is
kept in `job_versions` first, so every version's spec stays readable. A
replica gets the versions it missed from its owner with the job's sync
snapshot (`JobSnapshot.Versions`). Blocking; `SqliteStore` calls these
inside its transactions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ..models.job import Job

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_versions (
    job_id   TEXT NOT NULL,
    version  INTEGER NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (job_id, version)
);
CREATE INDEX IF NOT EXISTS jobs_by_name
    ON jobs (namespace, json_extract(body, '$.Name'));
"""


def keep_outgoing_version(db: sqlite3.Connection, job: Job) -> None:
    """Before `job` replaces its stored row: keep that row if it is of an
    earlier version."""
    db.execute(
        "INSERT OR REPLACE INTO job_versions "
        "SELECT id, json_extract(body, '$.Version'), body FROM jobs "
        "WHERE id = ? AND json_extract(body, '$.Version') < ?",
        (job.ID, job.Version),
    )


def put_versions(db: sqlite3.Connection, job_id: str, versions: Iterable[Job]) -> None:
    """Keep earlier versions of `job_id` that its owner sent."""
    db.executemany(
        "INSERT OR REPLACE INTO job_versions VALUES (?, ?, ?)",
        [(job_id, v.Version, v.model_dump_json()) for v in versions if job_id == v.ID],
    )


def earlier_versions(db: sqlite3.Connection, job_id: str) -> list[Job]:
    """The versions of `job_id` before its current one, oldest first."""
    rows = db.execute(
        "SELECT v.body FROM job_versions v JOIN jobs j ON j.id = v.job_id "
        "WHERE v.job_id = ? AND v.version < json_extract(j.body, '$.Version') "
        "ORDER BY v.version",
        (job_id,),
    ).fetchall()
    return [Job.model_validate_json(row[0]) for row in rows]


def jobs_named(db: sqlite3.Connection, name: str, namespace: str) -> list[Job]:
    """Jobs called `name` in `namespace`, newest first."""
    rows = db.execute(
        "SELECT body FROM jobs WHERE namespace = ? "
        "AND json_extract(body, '$.Name') = ? ORDER BY create_time DESC, id",
        (namespace, name),
    ).fetchall()
    return [Job.model_validate_json(row[0]) for row in rows]
