"""Only a job's owner speaks for it in the shared view.

Every node keeps a replica of every job, fed by snapshots that any peer
can send. A snapshot is believed only from the requester it names, and
only for a job whose ID is bound to that requester (`bound_job_id`: a hash
of its peer ID and a nonce kept in the job's Meta); a store binds each job
to the first requester seen for it and never lets one job's snapshot carry
another job's executions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bacalao.jobstore import SqliteStore
from bacalao.models.execution import Execution
from bacalao.models.history import Event, JobHistory
from bacalao.models.ids import bound_job_id, new_bound_job_id, new_execution_id
from bacalao.models.job import META_JOB_NONCE, Job
from bacalao.models.wire import JobSnapshot
from bacalao.network.shared_view import snapshot_refusal

from .support import make_job

ME = "n-me"
PEERS = ["n-a", "n-b", "n-c"]


def job(job_id: str, nonce: str | None, revision: int = 1) -> Job:
    meta = {} if nonce is None else {META_JOB_NONCE: nonce}
    return make_job(
        "noop",
        ID=job_id,
        Meta=meta,
        Revision=revision,
        CreateTime=1,
        ModifyTime=revision,
    )


def execution(job_id: str, execution_id: str = "") -> Execution:
    return Execution(ID=execution_id or new_execution_id(), JobID=job_id, NodeID="n-x")


def snapshot(
    requester: str,
    the_job: Job,
    executions: list[Execution] | None = None,
    history: list[JobHistory] | None = None,
) -> JobSnapshot:
    return JobSnapshot(
        RequesterID=requester,
        Job=the_job,
        Executions=executions or [],
        History=history or [],
    )


def owned_job(owner: str, revision: int = 1) -> Job:
    """A job as `owner` creates it: its ID bound to `owner` by a fresh nonce."""
    job_id, nonce = new_bound_job_id(owner)
    return job(job_id, nonce, revision)


# -- what a sender may speak for (pure) --------------------------------------


@st.composite
def claims(draw: st.DrawFn) -> tuple[str, JobSnapshot, bool]:
    """(sender, snapshot, whether the sender may speak for it): the snapshot
    names some requester, its ID is bound to someone (or to nobody), its
    Meta keeps that nonce, another one or none, and its executions and
    history may belong to other jobs."""
    sender, requester, owner = (draw(st.sampled_from(PEERS)) for _ in range(3))
    nonce = draw(st.text("0123456789abcdef", min_size=1, max_size=32))
    bound = draw(st.booleans())
    job_id = bound_job_id(owner, nonce) if bound else "j-" + nonce
    kept = draw(st.sampled_from(["same", "other", "none"]))
    meta = {"same": nonce, "other": nonce + "0", "none": None}[kept]
    children = draw(st.lists(st.booleans(), max_size=3))  # True: of this job
    executions = [execution(job_id if own else "j-other") for own in children[:2]]
    history = [
        JobHistory(SeqNum=i, JobID=job_id if own else "j-other", Event=Event())
        for i, own in enumerate(children[2:])
    ]
    snap = snapshot(requester, job(job_id, meta), executions, history)
    allowed = (
        requester == sender
        and meta is not None
        and bound_job_id(sender, meta) == job_id
        and all(children)
    )
    return sender, snap, allowed


@given(claims())
@example(  # its owner's job, with the nonce stripped, claimed by another peer
    (
        "n-b",
        snapshot("n-b", job(bound_job_id("n-a", "1f"), None)),
        False,
    )
)
def test_a_snapshot_is_believed_only_from_the_requester_its_id_is_bound_to(
    claim: tuple[str, JobSnapshot, bool],
) -> None:
    sender, snap, allowed = claim
    refusal = snapshot_refusal(snap, sender)
    assert (refusal is None) == allowed, (sender, snap.RequesterID, snap.Job.Meta)


@given(claims())
def test_a_snapshot_naming_another_requester_than_its_sender_is_refused(
    claim: tuple[str, JobSnapshot, bool],
) -> None:
    sender, snap, _ = claim
    if snap.RequesterID != sender:
        assert snapshot_refusal(snap, sender) is not None


@given(st.sampled_from(PEERS), st.sampled_from(PEERS))
def test_a_job_id_bound_to_one_requester_is_refused_from_another(
    owner: str, sender: str
) -> None:
    created = owned_job(owner)
    refusal = snapshot_refusal(snapshot(sender, created), sender)
    assert (refusal is None) == (owner == sender)


def test_a_snapshot_carrying_other_jobs_executions_or_history_is_refused() -> None:
    own = owned_job("n-a")
    foreign = snapshot("n-a", own, [execution(own.ID), execution("j-elsewhere")])
    assert snapshot_refusal(foreign, "n-a") is not None
    rewritten = snapshot(
        "n-a", own, history=[JobHistory(SeqNum=1, JobID="j-elsewhere")]
    )
    assert snapshot_refusal(rewritten, "n-a") is not None
    assert snapshot_refusal(snapshot("n-a", own, [execution(own.ID)]), "n-a") is None


# -- what a store keeps --------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    db = SqliteStore(tmp_path / "jobs.db", ME)
    yield db
    db.close()


def test_a_job_stays_with_the_first_requester_seen_for_it(store: SqliteStore) -> None:
    truth = snapshot("n-a", job("j-1", None, revision=1))
    assert store.put_snapshots([truth]) == ["j-1"]

    takeover = snapshot("n-b", job("j-1", None, revision=99))
    assert store.put_snapshots([takeover]) == []
    assert store.requester_of("j-1") == "n-a"
    kept = store.get_job("j-1")
    assert kept is not None
    assert kept.Revision == 1
    assert store.refused == 1

    newer = snapshot("n-a", job("j-1", None, revision=2))
    assert store.put_snapshots([newer]) == ["j-1"]


def test_a_snapshot_cannot_take_over_another_jobs_executions(
    store: SqliteStore,
) -> None:
    ran = execution("j-1")
    store.put_snapshots([snapshot("n-a", job("j-1", None), [ran])])

    moved = ran.model_copy(update={"JobID": "j-2"})
    assert store.put_snapshots([snapshot("n-a", job("j-2", None), [moved])]) == []
    assert [e.ID for e in store.executions("j-1")] == [ran.ID]
    assert store.executions("j-2") == []
    assert store.get_job("j-2") is None
    assert store.refused == 1


def test_a_forger_cannot_claim_a_job_by_stripping_its_nonce(
    store: SqliteStore,
) -> None:
    """A node that has not seen a job yet (it just joined) hears of it from
    a forger first: the forger strips the nonce, names itself requester,
    and sends the replica every check that a replica goes through."""
    created = owned_job("n-a")
    truth = snapshot("n-a", created)
    stripped = created.model_copy(update={"Meta": {}, "Revision": 50})
    forged = snapshot("n-b", stripped)

    for sender, snap in (("n-b", forged), ("n-a", truth)):
        if snapshot_refusal(snap, sender) is None:
            store.put_snapshots([snap])

    assert store.requester_of(created.ID) == "n-a"
    assert store.get_job(created.ID) == created
