"""Jobs are found by ID, unique ID prefix or name, on every job route."""

from __future__ import annotations

import pytest

from .asgi import error_of
from .conftest import Api
from .fakes import FakeBackend

JOBS = "/api/v1/orchestrator/jobs"
SUFFIXES = ("", "/executions", "/history", "/results")


@pytest.mark.parametrize("suffix", SUFFIXES)
async def test_name_prefix_and_id_all_work(
    api: Api, backend: FakeBackend, suffix: str
) -> None:
    job = backend.add_job(Name="nightly-report", Namespace="team")
    for key in (job.ID, job.ID[:10], "nightly-report"):
        reply = await api("GET", f"{JOBS}/{key}{suffix}")
        assert reply.status == 200, (key, reply.body)
    named = await api("GET", f"{JOBS}/nightly-report", query="namespace=team")
    assert named.json()["Job"]["ID"] == job.ID
    other = error_of(
        await api("GET", f"{JOBS}/nightly-report{suffix}", query="namespace=prod")
    )
    assert other["Status"] == 404


async def test_a_shared_name_is_ambiguous(api: Api, backend: FakeBackend) -> None:
    first = backend.add_job(Name="same")
    second = backend.add_job(Name="same")
    body = error_of(await api("GET", f"{JOBS}/same"))
    assert (body["Status"], body["Code"]) == (400, "MultipleJobsFound")
    assert first.ID in body["Message"]
    assert second.ID in body["Message"]


async def test_stop_by_name(api: Api, backend: FakeBackend) -> None:
    job = backend.add_job(Name="to-stop", State={"StateType": "Running"})
    reply = await api("DELETE", f"{JOBS}/to-stop", json={"reason": "enough"})
    assert reply.status == 200
    assert backend.stopped == [(job.ID, "enough")]
