"""The job store keeps every version of a job, and finds jobs by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bacalao.jobstore import Change, JobStore, SqliteStore
from bacalao.models.job import Job
from bacalao.models.states import JobStateType
from bacalao.models.wire import JobSnapshot

from .test_store import ME, OTHER, job

NAME = "nightly"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    db = SqliteStore(tmp_path / "jobs.db", ME)
    yield db
    db.close()


def version(n: int, *, revision: int, state: JobStateType, arg: str = "") -> Job:
    spec = job(
        "j-1", revision=revision, modify=revision, state=state, Name=NAME, Version=n
    )
    spec.task.Env["ARG"] = arg or f"v{n}"
    return spec


def test_a_new_version_keeps_the_outgoing_one_as_it_last_was(
    store: SqliteStore,
) -> None:
    store.apply([Change(job=version(1, revision=1, state=JobStateType.Pending))])
    store.apply([Change(job=version(1, revision=2, state=JobStateType.Completed))])
    store.apply([Change(job=version(2, revision=3, state=JobStateType.Pending))])
    store.apply([Change(job=version(2, revision=4, state=JobStateType.Running))])

    kept = store.versions("j-1")
    assert [(v.Version, v.State.StateType) for v in kept] == [
        (1, JobStateType.Completed),
        (2, JobStateType.Running),
    ]
    assert [v.task.Env["ARG"] for v in kept] == ["v1", "v2"]


def test_a_job_with_one_version_lists_it_and_an_unknown_job_none(
    store: SqliteStore,
) -> None:
    store.apply([Change(job=version(1, revision=1, state=JobStateType.Pending))])
    assert [v.Version for v in store.versions("j-1")] == [1]
    assert store.versions("j-nope") == []


def test_jobs_are_found_by_name_within_their_namespace(store: SqliteStore) -> None:
    store.apply([Change(job=job("j-a", Name=NAME, namespace="default"))])
    store.apply([Change(job=job("j-b", Name=NAME, namespace="team"))])
    store.apply([Change(job=job("j-c", Name="other"))])
    assert [j.ID for j in store.jobs_named(NAME, "default")] == ["j-a"]
    assert [j.ID for j in store.jobs_named(NAME, "team")] == ["j-b"]
    assert store.jobs_named("missing", "default") == []


def test_a_replica_gets_the_versions_it_missed_from_a_sync_snapshot(
    store: SqliteStore,
) -> None:
    earlier = [
        version(1, revision=2, state=JobStateType.Completed),
        version(2, revision=5, state=JobStateType.Stopped),
    ]
    latest = version(3, revision=7, state=JobStateType.Running)
    snap = JobSnapshot(RequesterID=OTHER, Job=latest, Versions=earlier)
    assert store.put_snapshots([snap]) == ["j-1"]
    assert [v.Version for v in store.versions("j-1")] == [1, 2, 3]


def test_a_replica_keeps_the_versions_it_saw_go_by(store: SqliteStore) -> None:
    for n, revision in ((1, 1), (2, 3)):
        current = version(n, revision=revision, state=JobStateType.Running)
        store.put_snapshots([JobSnapshot(RequesterID=OTHER, Job=current)])
    assert [v.Version for v in store.versions("j-1")] == [1, 2]


def test_the_owners_snapshot_carries_the_earlier_versions(store: SqliteStore) -> None:
    store.apply([Change(job=version(1, revision=1, state=JobStateType.Completed))])
    store.apply([Change(job=version(2, revision=2, state=JobStateType.Pending))])
    snap = store.snapshot("j-1")
    assert snap is not None
    assert [v.Version for v in snap.Versions] == [1]
    assert snap.Job.Version == 2


async def test_the_async_store_lists_versions_and_names(store: SqliteStore) -> None:
    jobs = JobStore(store)
    await jobs.apply(Change(job=version(1, revision=1, state=JobStateType.Failed)))
    await jobs.apply(Change(job=version(2, revision=2, state=JobStateType.Pending)))
    assert [v.Version for v in await jobs.versions("j-1")] == [1, 2]
    assert [j.ID for j in await jobs.jobs_named(NAME, "default")] == ["j-1"]
