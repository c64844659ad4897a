"""The SQLite job store: atomic writes, replicas, lookups and paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bacalao.jobstore import AmbiguousID, Change, JobStore, SqliteStore
from bacalao.models.execution import Execution
from bacalao.models.history import Event, JobHistory
from bacalao.models.job import Job
from bacalao.models.states import ExecutionStateType, JobStateType, State
from bacalao.models.wire import JobSnapshot

from .support import make_job

ME = "n-me"
OTHER = "n-other"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    db = SqliteStore(tmp_path / "jobs.db", ME)
    yield db
    db.close()


def job(
    job_id: str,
    *,
    revision: int = 1,
    create: int = 1,
    modify: int | None = None,
    namespace: str = "default",
    state: JobStateType = JobStateType.Pending,
    **fields: object,
) -> Job:
    return make_job(
        "noop",
        ID=job_id,
        Namespace=namespace,
        Revision=revision,
        CreateTime=create,
        ModifyTime=create if modify is None else modify,
        State={"StateType": state.name},
        **fields,
    )


def execution(job_id: str, execution_id: str, create: int = 1) -> Execution:
    return Execution(
        ID=execution_id,
        JobID=job_id,
        NodeID="n-compute",
        CreateTime=create,
        ComputeState=State[ExecutionStateType](StateType=ExecutionStateType.Running),
        Job=make_job("noop", ID=job_id),
    )


def event(job_id: str, seq: int) -> JobHistory:
    return JobHistory(SeqNum=seq, JobID=job_id, Event=Event(Message=f"event {seq}"))


def full_change(job_id: str, **fields: object) -> Change:
    return Change(
        job=job(job_id, **fields),
        executions=[
            execution(job_id, f"e-{job_id}-1"),
            execution(job_id, f"e-{job_id}-2", 2),
        ],
        events=[event(job_id, 1), event(job_id, 2)],
    )


def snapshot(j: Job, requester: str = OTHER) -> JobSnapshot:
    return JobSnapshot(
        RequesterID=requester,
        Job=j,
        Executions=[execution(j.ID, f"e-{j.ID}")],
        History=[event(j.ID, 1)],
    )


# -- apply ------------------------------------------------------------------


def test_apply_writes_job_executions_and_events(store: SqliteStore) -> None:
    store.apply([full_change("j-1")])
    assert store.get_job("j-1") == job("j-1")
    assert store.requester_of("j-1") == ME
    assert [e.ID for e in store.executions("j-1")] == ["e-j-1-1", "e-j-1-2"]
    assert [h.Event.Message for h in store.history("j-1")] == ["event 1", "event 2"]


def test_executions_are_stored_without_their_embedded_job(store: SqliteStore) -> None:
    store.apply([full_change("j-1")])
    assert all(e.Job is None for e in store.executions("j-1"))


def test_apply_replaces_by_id(store: SqliteStore) -> None:
    store.apply([full_change("j-1")])
    store.apply([Change(job=job("j-1", revision=2, state=JobStateType.Running))])
    stored = store.get_job("j-1")
    assert stored is not None
    assert (stored.Revision, stored.State.StateType) == (2, JobStateType.Running)
    assert len(store.executions("j-1")) == 2


def test_failed_apply_writes_nothing(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.apply([full_change("j-0")])

    def broken(_event: JobHistory) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "_put_event", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.apply([full_change("j-1"), Change(job=job("j-0", revision=9))])
    assert store.get_job("j-1") is None
    assert store.executions("j-1") == []
    assert store.history("j-1") == []
    previous = store.get_job("j-0")
    assert previous is not None
    assert previous.Revision == 1

    monkeypatch.undo()
    store.apply([full_change("j-2")])  # the store is usable afterwards
    assert store.get_job("j-2") is not None


def test_store_survives_reopening(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "db", ME)
    first.apply([full_change("j-1")])
    first.close()
    again = SqliteStore(tmp_path / "db", ME)
    try:
        assert again.get_job("j-1") == job("j-1")
        assert again.owned_active_job_ids() == ["j-1"]
    finally:
        again.close()


# -- replicas ---------------------------------------------------------------


def test_put_snapshots_stores_foreign_jobs(store: SqliteStore) -> None:
    sent = snapshot(job("j-1"))
    assert store.put_snapshots([sent]) == ["j-1"]
    assert store.requester_of("j-1") == OTHER
    stored = store.snapshot("j-1")
    assert stored is not None
    assert (stored.RequesterID, stored.Job, stored.History) == (
        OTHER,
        sent.Job,
        sent.History,
    )
    assert stored.Executions == [
        e.model_copy(update={"Job": None}) for e in sent.Executions
    ]


def test_put_snapshots_keeps_only_newer_revisions(store: SqliteStore) -> None:
    store.put_snapshots([snapshot(job("j-1", revision=5, modify=50))])
    changed = store.put_snapshots(
        [
            snapshot(job("j-1", revision=4, modify=99)),
            snapshot(job("j-1", revision=5, modify=50)),
        ]
    )
    assert changed == []
    stored = store.get_job("j-1")
    assert stored is not None
    assert stored.Revision == 5
    assert store.put_snapshots([snapshot(job("j-1", revision=6, modify=60))]) == ["j-1"]


def test_put_snapshots_ignores_snapshots_of_own_jobs(store: SqliteStore) -> None:
    store.apply([Change(job=job("j-1", revision=1))])
    changed = store.put_snapshots([snapshot(job("j-1", revision=9), requester=ME)])
    assert changed == []
    stored = store.get_job("j-1")
    assert stored is not None
    assert stored.Revision == 1


def test_put_snapshots_never_overwrites_an_owned_job(store: SqliteStore) -> None:
    """A peer claiming to own one of this node's jobs must not take it over."""
    store.apply([Change(job=job("j-mine", revision=1, modify=10))])
    store.put_snapshots([snapshot(job("j-mine", revision=9, modify=99), OTHER)])
    stored = store.get_job("j-mine")
    assert stored is not None
    assert stored.Revision == 1
    assert store.requester_of("j-mine") == ME


# -- lookups ----------------------------------------------------------------


def test_resolve_id(store: SqliteStore) -> None:
    for job_id in ("j-abc1", "j-abc2", "j-bcd"):
        store.apply([Change(job=job(job_id))])
    assert store.resolve_id("j-abc1") == "j-abc1"
    assert store.resolve_id("j-b") == "j-bcd"
    assert store.resolve_id("j-x") is None
    with pytest.raises(AmbiguousID) as exc:
        store.resolve_id("j-abc")
    assert exc.value.candidates == ["j-abc1", "j-abc2"]


def test_exact_id_wins_over_longer_ids_it_prefixes(store: SqliteStore) -> None:
    store.apply([Change(job=job("j-1")), Change(job=job("j-10"))])
    assert store.resolve_id("j-1") == "j-1"


@pytest.mark.parametrize("prefix", ["j-%", "j-_", "%", "_", "j-\\"])
def test_sql_wildcards_in_a_prefix_are_literal(store: SqliteStore, prefix: str) -> None:
    store.apply([Change(job=job("j-a")), Change(job=job("j-b"))])
    assert store.resolve_id(prefix) is None


def test_literal_percent_and_underscore_ids_resolve(store: SqliteStore) -> None:
    store.apply([Change(job=job("j-50%_off")), Change(job=job("j-50xxoff"))])
    assert store.resolve_id("j-50%") == "j-50%_off"
    assert store.resolve_id("j-50x") == "j-50xxoff"


# -- listing ----------------------------------------------------------------


@pytest.fixture
def five_jobs(store: SqliteStore) -> SqliteStore:
    created = {"j-c": 30, "j-a": 10, "j-e": 50, "j-b": 20, "j-d": 40}
    for job_id, t in created.items():
        ns = "team" if job_id in ("j-b", "j-d") else "default"
        store.apply([Change(job=job(job_id, create=t, modify=100 - t, namespace=ns))])
    return store


def _ids(jobs: list[Job]) -> list[str]:
    return [j.ID for j in jobs]


def test_list_jobs_orders_by_creation(five_jobs: SqliteStore) -> None:
    jobs, more = five_jobs.list_jobs()
    assert _ids(jobs) == ["j-a", "j-b", "j-c", "j-d", "j-e"]
    assert not more
    jobs, _ = five_jobs.list_jobs(reverse=True)
    assert _ids(jobs) == ["j-e", "j-d", "j-c", "j-b", "j-a"]


def test_list_jobs_other_orders(five_jobs: SqliteStore) -> None:
    assert _ids(five_jobs.list_jobs(order_by="modify_time")[0])[0] == "j-e"
    assert _ids(five_jobs.list_jobs(order_by="id", reverse=True)[0])[0] == "j-e"
    assert _ids(five_jobs.list_jobs(order_by="nonsense")[0])[0] == "j-a"


def test_list_jobs_pages(five_jobs: SqliteStore) -> None:
    page, more = five_jobs.list_jobs(limit=2)
    assert (_ids(page), more) == (["j-a", "j-b"], True)
    page, more = five_jobs.list_jobs(offset=2, limit=2)
    assert (_ids(page), more) == (["j-c", "j-d"], True)
    page, more = five_jobs.list_jobs(offset=4, limit=2)
    assert (_ids(page), more) == (["j-e"], False)
    page, more = five_jobs.list_jobs(offset=3, limit=2)
    assert (_ids(page), more) == (["j-d", "j-e"], False)


def test_list_jobs_filters(five_jobs: SqliteStore) -> None:
    assert _ids(five_jobs.list_jobs(namespace="team")[0]) == ["j-b", "j-d"]
    odd = five_jobs.list_jobs(where=lambda j: j.ID in ("j-a", "j-c", "j-e"), limit=2)
    assert (_ids(odd[0]), odd[1]) == (["j-a", "j-c"], True)
    rest = five_jobs.list_jobs(where=lambda j: j.ID in ("j-a", "j-c", "j-e"), offset=2)
    assert (_ids(rest[0]), rest[1]) == (["j-e"], False)


def test_list_jobs_ties_are_broken_by_id(store: SqliteStore) -> None:
    for job_id in ("j-2", "j-3", "j-1"):
        store.apply([Change(job=job(job_id, create=7))])
    assert _ids(store.list_jobs()[0]) == ["j-1", "j-2", "j-3"]
    assert _ids(store.list_jobs(reverse=True)[0]) == ["j-3", "j-2", "j-1"]


# -- sync paging --------------------------------------------------------------


def test_owned_jobs_since_pages_through_own_jobs(store: SqliteStore) -> None:
    for i in range(5):
        store.apply([full_change(f"j-{i}", modify=10 * (i + 1))])
    store.put_snapshots([snapshot(job("j-foreign", modify=25))])

    page, more = store.owned_jobs_since(0, 2)
    assert [s.Job.ID for s in page] == ["j-0", "j-1"]
    assert more
    assert all(s.RequesterID == ME for s in page)
    assert len(page[0].Executions) == 2
    assert len(page[0].History) == 2

    page, more = store.owned_jobs_since(20, 2)
    assert ([s.Job.ID for s in page], more) == (["j-2", "j-3"], True)
    page, more = store.owned_jobs_since(40, 2)
    assert ([s.Job.ID for s in page], more) == (["j-4"], False)
    assert store.owned_jobs_since(50, 2) == ([], False)


def test_owned_jobs_since_loses_nothing_when_times_tie(store: SqliteStore) -> None:
    """Pulling pages with Since = newest ModifyTime seen must reach every job."""
    for i in range(3):
        store.apply([Change(job=job(f"j-{i}", modify=100))])
    seen: list[str] = []
    since, more = 0, True
    while more:
        page, more = store.owned_jobs_since(since, 2)
        assert page or not more
        seen += [s.Job.ID for s in page]
        since = max([since, *(s.Job.ModifyTime for s in page)])
    assert sorted(seen) == ["j-0", "j-1", "j-2"]


def test_owned_active_job_ids(store: SqliteStore) -> None:
    store.apply([Change(job=job("j-run", state=JobStateType.Running))])
    store.apply([Change(job=job("j-done", state=JobStateType.Completed))])
    store.put_snapshots([snapshot(job("j-theirs", state=JobStateType.Running))])
    assert store.owned_active_job_ids() == ["j-run"]


async def test_async_store_runs_the_same_operations(store: SqliteStore) -> None:
    jobs = JobStore(store)
    await jobs.apply(full_change("j-1"))
    assert await jobs.get_job("j-1") == job("j-1")
    assert await jobs.resolve_id("j-") == "j-1"
    assert len(await jobs.executions("j-1")) == 2
    assert len(await jobs.history("j-1")) == 2
    snap = await jobs.snapshot("j-1")
    assert snap is not None
    assert snap.RequesterID == ME
    assert await jobs.put_snapshots([snapshot(job("j-2"))]) == ["j-2"]
