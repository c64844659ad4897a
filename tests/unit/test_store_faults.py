"""One bad write fails alone, a full disk is waited out, and the node lives.

A requester's job store is written by many jobs at once (group commits). A
change the store refuses for its content must fail only its own caller;
a disk that refuses every write makes new work wait (submit answers 503)
while running jobs hold their changes until there is room; and nothing
that goes wrong in one job's handling may stop the node.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest
import trio
import trio.testing

from bacalao.api.errors import error_for
from bacalao.jobstore import (
    Change,
    JobStore,
    SqliteStore,
    StorageUnavailable,
    StoreError,
)
from bacalao.models.job import Job
from bacalao.models.states import ExecutionStateType, JobStateType
from bacalao.p2p.rpc import HandlerError
from bacalao.threads import SerialWorker

from ..full_disk import small_disk
from .requester import ME, WAIT, Requester, build_requester, running
from .support import make_job

E = ExecutionStateType
J = JobStateType


def job(job_id: str) -> Job:
    return make_job("noop", ID=job_id, Revision=1, CreateTime=1, ModifyTime=1)


def unencodable(job_id: str) -> Job:
    """A job whose JSON cannot be written (a value no encoder knows)."""
    poisoned = job(job_id)
    poisoned.Meta["x"] = object()  # type: ignore[assignment]
    return poisoned


# -- the store --------------------------------------------------------------


async def test_a_change_that_cannot_be_encoded_fails_alone_in_its_batch(
    tmp_path: Path,
) -> None:
    worker = SerialWorker()
    jobs = JobStore(SqliteStore(tmp_path / "jobs.db", ME), worker)
    thread_free = threading.Event()
    errors: dict[str, Exception | None] = {}

    async def write(name: str, change: Change) -> None:
        try:
            await jobs.apply(change)
            errors[name] = None
        except Exception as exc:
            errors[name] = exc

    async with trio.open_nursery() as nursery:
        # the store's one thread is busy: the next write waits for it, and
        # every change made meanwhile goes to disk in one transaction after
        nursery.start_soon(worker.run, thread_free.wait, WAIT)
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(write, "j-first", Change(job=job("j-first")))
        await trio.testing.wait_all_tasks_blocked()
        nursery.start_soon(write, "j-a", Change(job=job("j-a")))
        nursery.start_soon(write, "j-bad", Change(job=unencodable("j-bad")))
        nursery.start_soon(write, "j-b", Change(job=job("j-b")))
        await trio.testing.wait_all_tasks_blocked()
        thread_free.set()
    try:
        assert {name for name, error in errors.items() if error is None} == {
            "j-first",
            "j-a",
            "j-b",
        }
        assert isinstance(errors["j-bad"], StoreError)
        for stored in ("j-first", "j-a", "j-b"):
            assert await jobs.get_job(stored) is not None
        assert await jobs.get_job("j-bad") is None
    finally:
        jobs.close()


async def test_a_full_disk_refuses_writes_as_unavailable_and_loses_nothing(
    tmp_path: Path,
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        store = SqliteStore(disk.path / "jobs.db", ME)
        try:
            store.apply([Change(job=job("j-before"))])
            await trio.to_thread.run_sync(disk.fill)

            with pytest.raises(StorageUnavailable) as full:
                store.apply([Change(job=job("j-during"))])
            assert "full" in full.value.message
            assert "free disk space" in full.value.hint
            assert store.get_job("j-during") is None

            await trio.to_thread.run_sync(disk.make_room)
            store.apply([Change(job=job("j-during")), Change(job=job("j-after"))])
            for job_id in ("j-before", "j-during", "j-after"):
                assert store.get_job(job_id) is not None, job_id
        finally:
            store.close()


# -- the orchestrator on a failing store ------------------------------------


class Disk:
    """The job store's write seam, made to fail as SQLite does when the
    disk is full (`full`), or for the content of given jobs (`refuse`)."""

    def __init__(self, store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.refuse: set[str] = set()
        self.failed_writes = 0
        original = store._put_job

        def put_job(job: Job, requester: str) -> None:
            if self.full:
                self.failed_writes += 1
                raise sqlite3.OperationalError("database or disk is full")
            if job.ID in self.refuse:
                self.failed_writes += 1
                raise ValueError(f"job {job.ID} cannot be encoded")
            original(job, requester)

        monkeypatch.setattr(store, "_put_job", put_job)

    async def wait_for_failed_writes(self, count: int = 1) -> None:
        with trio.fail_after(WAIT):
            while self.failed_writes < count:
                await trio.sleep(0.01)


@pytest.fixture
async def requester(tmp_path: Path) -> Requester:
    return build_requester(tmp_path / "jobs.db", {"n-a": 4.0})


@pytest.fixture
async def disk(requester: Requester, monkeypatch: pytest.MonkeyPatch) -> Disk:
    return Disk(requester.sqlite, monkeypatch)


async def test_a_job_submitted_while_the_disk_is_full_is_refused_as_unavailable(
    requester: Requester, disk: Disk
) -> None:
    async with running(requester) as req:
        disk.full = True
        with pytest.raises(StorageUnavailable) as refused:
            await req.submit()
        assert error_for(refused.value).Status == 503
        assert "full" in refused.value.message

        disk.full = False
        job_id = await req.submit()
        assert (await req.job(job_id)).State.StateType in (J.Pending, J.Running)


async def test_an_update_waits_for_disk_space_and_is_stored_once_it_returns(
    requester: Requester, disk: Disk
) -> None:
    async with running(requester) as req:
        job_id = await req.submit()
        execution = await req.wait_for_execution(job_id, "n-a")
        disk.full = True
        answers = []

        async def report() -> None:
            answers.append(await req.report("n-a", execution, E.Completed))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(report)
            await disk.wait_for_failed_writes(1)
            assert answers == []  # not acked while it is not stored
            assert (await req.job(job_id)).State.StateType == J.Running
            disk.full = False
        assert answers[0].Refused == {}
        await req.wait_for_state(job_id, J.Completed)


async def test_a_job_whose_change_is_refused_stops_alone_and_the_node_runs_on(
    requester: Requester, disk: Disk
) -> None:
    async with running(requester) as req:
        broken = await req.submit()
        fine = await req.submit()
        broken_execution = await req.wait_for_execution(broken, "n-a")
        fine_execution = await req.wait_for_execution(fine, "n-a")
        disk.refuse.add(broken)

        async def report_broken() -> None:
            # its answer is another test's concern: here, only the node's life
            with contextlib.suppress(HandlerError):
                await req.report("n-a", broken_execution, E.Completed)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(report_broken)
            await disk.wait_for_failed_writes(1)
            nursery.cancel_scope.cancel()

        await req.report("n-a", fine_execution, E.Completed)
        await req.wait_for_state(fine, J.Completed)
        later = await req.submit()
        await req.wait_for_execution(later, "n-a")
        assert (await req.job(broken)).State.StateType == J.Running  # as last stored


async def test_an_update_whose_handling_failed_still_gets_an_answer(
    requester: Requester, disk: Disk
) -> None:
    """The compute node must hear back (stored, refused or unavailable)
    rather than wait out its call's timeout on a handler that never ends."""
    async with running(requester) as req:
        job_id = await req.submit()
        execution = await req.wait_for_execution(job_id, "n-a")
        disk.refuse.add(job_id)
        with trio.fail_after(WAIT), contextlib.suppress(HandlerError):
            await req.report("n-a", execution, E.Completed)
