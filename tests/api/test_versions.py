"""Job names and versions over the API, with Bacalhau's request and response
fields: submit under an existing name, Force, versions, diff and rerun."""

from __future__ import annotations

from typing import Any

from bacalao.models.api import (
    DiffJobResponse,
    ListJobVersionsResponse,
    PutJobResponse,
    RerunJobResponse,
)
from bacalao.models.states import JobStateType

from .asgi import error_of
from .conftest import Api
from .fakes import FakeBackend, job_spec

JOBS = "/api/v1/orchestrator/jobs"


def spec(message: str = "v1", name: str = "nightly") -> dict[str, Any]:
    return {**job_spec("noop", Stdout=message), "Name": name}


async def submit(api: Api, body: dict[str, Any]) -> str:
    reply = await api("PUT", JOBS, json=body)
    assert reply.status == 200, reply.body
    return PutJobResponse.model_validate(reply.json()).JobID


async def test_a_spec_under_an_existing_name_updates_that_job(api: Api) -> None:
    first = await submit(api, {"Job": spec("v1")})
    assert await submit(api, {"Job": spec("v2")}) == first

    reply = await api("GET", f"{JOBS}/nightly/versions")
    assert reply.status == 200
    assert set(reply.json()) == {"Items", "NextToken"}
    items = ListJobVersionsResponse.model_validate(reply.json()).Items
    assert [(j.ID, j.Version) for j in items] == [(first, 1), (first, 2)]
    assert [j.task.Engine.Params["Stdout"] for j in items] == ["v1", "v2"]

    described = await api("GET", f"{JOBS}/nightly")
    assert described.status == 200
    assert described.json()["Job"]["Version"] == 2


async def test_an_unchanged_spec_is_refused_and_force_repeats_it(
    api: Api, backend: FakeBackend
) -> None:
    job_id = await submit(api, {"Job": spec()})
    reply = await api("PUT", JOBS, json={"Job": spec()})
    assert reply.status == 400
    error = error_of(reply)
    assert "no changes detected" in error["Message"]
    assert "--force" in error["Hint"]

    assert await submit(api, {"Job": spec(), "Force": True}) == job_id
    assert backend.forced == [False, False, True]
    assert backend.jobs[job_id].Version == 2


async def test_diff_compares_a_spec_with_the_stored_job_of_its_name(api: Api) -> None:
    await submit(api, {"Job": spec("v1")})
    reply = await api("PUT", f"{JOBS}/diff", json={"Job": spec("v2")})
    assert reply.status == 200
    assert set(reply.json()) == {"Diff", "Warnings"}
    diff = DiffJobResponse.model_validate(reply.json()).Diff
    lines = [line.replace(" ", "") for line in diff.splitlines()]
    assert '-"Stdout":"v1"' in lines
    assert '+"Stdout":"v2"' in lines

    same = await api("PUT", f"{JOBS}/diff", json={"Job": spec("v1")})
    assert DiffJobResponse.model_validate(same.json()).Diff == ""


async def test_diff_of_a_name_no_job_has_is_not_found(api: Api) -> None:
    reply = await api("PUT", f"{JOBS}/diff", json={"Job": spec(name="nobody")})
    assert reply.status == 404
    assert "nobody" in error_of(reply)["Message"]


async def test_rerun_makes_the_next_version_from_the_one_asked_for(
    api: Api, backend: FakeBackend
) -> None:
    job_id = await submit(api, {"Job": spec("v1")})
    await submit(api, {"Job": spec("v2")})
    backend._set_state(job_id, JobStateType.Completed)

    reply = await api("PUT", f"{JOBS}/nightly/rerun", json={"JobVersion": 1})
    assert reply.status == 200
    assert set(reply.json()) == {"EvaluationID", "JobID", "JobVersion", "Warnings"}
    answer = RerunJobResponse.model_validate(reply.json())
    assert (answer.JobID, answer.JobVersion) == (job_id, 3)
    assert backend.jobs[job_id].task.Engine.Params["Stdout"] == "v1"


async def test_rerun_without_a_body_reruns_the_latest_version(
    api: Api, backend: FakeBackend
) -> None:
    job_id = await submit(api, {"Job": spec()})
    backend._set_state(job_id, JobStateType.Failed)
    reply = await api("PUT", f"{JOBS}/{job_id}/rerun")
    assert reply.status == 200
    assert reply.json()["JobVersion"] == 2


async def test_rerun_of_a_job_waiting_to_be_placed_is_a_conflict(api: Api) -> None:
    job_id = await submit(api, {"Job": spec()})
    reply = await api("PUT", f"{JOBS}/{job_id}/rerun", json={})
    assert reply.status == 409
    assert "cannot rerun job in state Pending" in error_of(reply)["Message"]


async def test_a_bad_rerun_request_names_the_field(api: Api) -> None:
    job_id = await submit(api, {"Job": spec()})
    reply = await api("PUT", f"{JOBS}/{job_id}/rerun", json={"JobVersion": -1})
    assert reply.status == 400
    assert "JobVersion" in error_of(reply)["Message"]


async def test_versions_of_an_unknown_job_are_not_found(api: Api) -> None:
    reply = await api("GET", f"{JOBS}/j-nope/versions")
    assert reply.status == 404
