"""The event stream: job and node changes as server-sent events."""

from __future__ import annotations

import pytest
import trio
import trio.lowlevel

from bacalao.api.app import ApiApp
from bacalao.api.events import KEEPALIVE
from bacalao.models.states import ExecutionStateType, JobStateType, State

from .asgi import call, error_of, open_events
from .fakes import FakeBackend, job_spec

TOKEN = "s3cret-token-0123456789"


async def submit(app: ApiApp) -> str:
    reply = await call(
        app, "PUT", "/api/v1/orchestrator/jobs", json={"Job": job_spec()}
    )
    assert reply.status == 200
    job_id: str = reply.json()["JobID"]
    return job_id


async def test_every_job_change_is_an_event_with_its_revision(
    app: ApiApp, backend: FakeBackend
) -> None:
    async with open_events(app) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"] == "text/event-stream"
        job_id = await submit(app)
        kind, revision, data = await stream.next_event()
        assert (kind, revision) == ("job", "1")
        assert data["Job"]["ID"] == job_id
        assert data["Job"]["State"]["StateType"] == "Pending"
        assert "Executions" not in data
    assert backend.events.subscribers == 0  # hanging up unsubscribes


async def test_one_job_starts_with_its_current_state_and_follows_it_to_the_end() -> (
    None
):
    backend = FakeBackend(auto_run=True)
    app = ApiApp(backend)
    job_id = await submit(app)
    async with open_events(app, f"job_id={job_id[:12]}") as stream:
        _, revision, data = await stream.next_event()
        assert (revision, data["Job"]["State"]["StateType"]) == ("1", "Pending")
        assert data["Executions"] == []
        other = await submit(app)  # another job's changes are not sent
        for _ in range(3):
            await backend.get_job(job_id)  # the fake's job moves one step
        states: list[str] = []
        while not states or states[-1] != "Completed":
            _, _, data = await stream.next_event()
            states.append(data["Job"]["State"]["StateType"])
            assert data["Job"]["ID"] == job_id != other
        assert states == ["Running", "Completed"]
        execution = data["Executions"][0]["ComputeState"]["StateType"]
        assert execution == ExecutionStateType.Completed


async def test_a_job_that_ended_before_subscribing_is_seen_ended(
    app: ApiApp, backend: FakeBackend
) -> None:
    job = backend.add_job(Revision=7)
    async with open_events(app, f"job_id={job.ID}") as stream:
        _, revision, data = await stream.next_event()
        assert (revision, data["Job"]["State"]["StateType"]) == ("7", "Completed")


async def test_older_revisions_of_the_watched_job_are_not_sent(
    app: ApiApp, backend: FakeBackend
) -> None:
    job = backend.add_job(Revision=5, State={"StateType": "Running"})
    async with open_events(app, f"job_id={job.ID}") as stream:
        await stream.next_event()
        backend.events.job_changed(job.model_copy(update={"Revision": 4}), [])
        ended = State[JobStateType](StateType=JobStateType.Completed)
        newer = job.model_copy(update={"Revision": 6, "State": ended})
        backend.events.job_changed(newer, [])
        _, revision, _ = await stream.next_event()
        assert revision == "6"


async def test_an_unknown_job_is_a_404_before_the_stream_starts(app: ApiApp) -> None:
    reply = await call(app, "GET", "/api/v1/orchestrator/events", query="job_id=j-nope")
    assert reply.status == 404
    assert "j-nope" in error_of(reply)["Message"]


async def test_the_stream_needs_the_api_token() -> None:
    guarded = ApiApp(FakeBackend(), tokens=[TOKEN])
    reply = await call(guarded, "GET", "/api/v1/orchestrator/events")
    assert reply.status == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    reply_ok = await call(guarded, "GET", "/api/v1/agent/version", headers=headers)
    assert reply_ok.status == 200


async def test_a_quiet_stream_sends_keepalives(
    app: ApiApp, autojump_clock: trio.abc.Clock
) -> None:
    async with open_events(app) as stream:
        before = trio.current_time()
        assert await stream.next_block() == ": keepalive"
        assert trio.current_time() - before == pytest.approx(KEEPALIVE)


async def test_the_stream_ends_when_the_node_stops(
    app: ApiApp, backend: FakeBackend
) -> None:
    async with open_events(app) as stream:
        backend.events.close()
        assert await stream.next_block() == ""
        assert stream.ended


async def test_a_reader_too_far_behind_is_told_and_dropped(
    app: ApiApp, backend: FakeBackend
) -> None:
    backend.events.limit = 4
    async with open_events(app) as stream:
        with trio.fail_after(5):
            while not backend.events.subscribers:
                await trio.lowlevel.checkpoint()
        for _ in range(6):  # six different jobs: nothing to collapse
            backend.events.job_changed(backend.add_job(), [])
        blocks = []
        while block := await stream.next_block():
            blocks.append(block)
        assert blocks[-1] == ": lagged"
