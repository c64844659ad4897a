"""PUT/POST /api/v1/orchestrator/jobs: validation, sanitising, errors."""

from __future__ import annotations

from typing import Any

import pytest

from bacalao.api.submission import sanitize
from bacalao.jobstore import StorageUnavailable
from bacalao.models.api import PutJobResponse
from bacalao.models.job import Job

from .asgi import error_of
from .conftest import Api
from .fakes import FakeBackend, job_spec

JOBS = "/api/v1/orchestrator/jobs"


def docker_job(**params: Any) -> dict[str, Any]:
    return job_spec("docker", Image="busybox:1.37.0", **params)


@pytest.mark.parametrize("method", ["PUT", "POST"])
async def test_submit_returns_ids(api: Api, backend: FakeBackend, method: str) -> None:
    reply = await api(method, JOBS, json={"Job": docker_job(Parameters=["echo", "hi"])})
    assert reply.status == 200
    body = PutJobResponse.model_validate(reply.json())
    assert body.JobID in backend.jobs
    assert body.EvaluationID
    assert body.Warnings == ["fake backend warning"]
    job, warnings = backend.submitted[0]
    assert job.task.Engine.Params["Parameters"] == ["echo", "hi"]
    assert warnings == []


async def test_go_client_body_with_extra_fields(api: Api, backend: FakeBackend) -> None:
    body = {
        "Job": docker_job(),
        "Force": False,
        "Namespace": "",
        "IdempotencyToken": "",
        "Credential": None,
    }
    assert (await api("PUT", JOBS, json=body)).status == 200


async def test_lowercase_keys_are_accepted(api: Api, backend: FakeBackend) -> None:
    spec = {
        "name": "hello",
        "type": "batch",
        "tasks": [
            {
                "name": "main",
                "engine": {"type": "docker", "params": {"image": "busybox"}},
            }
        ],
    }
    assert (await api("PUT", JOBS, json={"job": spec})).status == 200
    assert backend.submitted[0][0].Name == "hello"


async def test_missing_engine_param_names_field(api: Api) -> None:
    reply = await api("PUT", JOBS, json={"Job": job_spec("docker")})
    body = error_of(reply)
    assert body["Status"] == 400
    assert body["Code"] == "ValidationError"
    assert "Job.Tasks.0.Engine.Params.Image: Field required" in body["Message"]


async def test_unknown_engine_names_type(api: Api) -> None:
    body = error_of(await api("PUT", JOBS, json={"Job": job_spec("podman")}))
    assert "Job.Tasks.0.Engine.Type: unknown engine type 'podman'" in body["Message"]


@pytest.mark.parametrize(
    ("job", "field"),
    [
        ({}, "Job.Tasks: Field required"),
        ({"Tasks": []}, "Job.Tasks: List should have at least 1 item"),
        (
            {"Type": "nightly", "Tasks": [{"Engine": {"Type": "noop"}}]},
            "Job.Type: unknown job type",
        ),
        ({"Tasks": [{"Name": "x"}]}, "Job.Tasks.0.Engine: Field required"),
        ({"Count": -1, "Tasks": [{"Engine": {"Type": "noop"}}]}, "Job.Count: "),
        (
            {"Tasks": [{"Engine": {"Type": "noop"}, "Resources": {"CPU": "lots"}}]},
            "Job.Tasks.0.Resources.CPU: 'lots' is not a CPU amount",
        ),
        (
            {
                "Tasks": [
                    {
                        "Engine": {
                            "Type": "docker",
                            "Params": {"Image": "x", "WorkingDirectory": "rel"},
                        }
                    }
                ]
            },
            "Job.Tasks.0.Engine.Params.WorkingDirectory: 'rel' must be an absolute",
        ),
    ],
)
async def test_invalid_spec_is_400_naming_field(
    api: Api, job: dict[str, Any], field: str
) -> None:
    body = error_of(await api("PUT", JOBS, json={"Job": job}))
    assert body["Status"] == 400
    assert body["Message"].startswith("invalid job spec: ")
    assert field in body["Message"]


async def test_several_errors_are_joined_by_newlines(api: Api) -> None:
    job = {"Type": "nightly", "Count": -1, "Tasks": [{"Engine": {"Type": "noop"}}]}
    message = error_of(await api("PUT", JOBS, json={"Job": job}))["Message"]
    assert "Job.Type:" in message
    assert "\nJob.Count:" in message


async def test_job_not_wrapped_gets_hint(api: Api) -> None:
    body = error_of(await api("PUT", JOBS, json=docker_job()))
    assert body["Message"] == "invalid job spec: Job: Field required"
    assert '{"Job": {...}}' in body["Hint"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "malformed JSON body: "),
        (b"[1, 2]", "malformed JSON body: expected an object, got list"),
        (b'"Job"', "malformed JSON body: expected an object, got str"),
        (b"\xff\xfe", "malformed JSON body: "),
        (b"[" * 100_000, "malformed JSON body: "),
    ],
)
async def test_malformed_json_is_400(api: Api, raw: bytes, message: str) -> None:
    body = error_of(await api("PUT", JOBS, body=raw))
    assert body["Status"] == 400
    assert body["Message"].startswith(message)


async def test_empty_body_names_job(api: Api) -> None:
    assert "Job: Field required" in error_of(await api("PUT", JOBS))["Message"]


async def test_body_over_limit_is_413_by_content_length(api: Api) -> None:
    headers = {"Content-Length": str(11 * 1024 * 1024)}
    body = error_of(await api("PUT", JOBS, body=b"{}", headers=headers))
    assert body["Status"] == 413
    assert "10 MB" in body["Message"]


async def test_body_over_limit_is_413_while_streaming(backend: FakeBackend) -> None:
    from bacalao.api.app import ApiApp

    from .asgi import call

    small = ApiApp(backend, max_body=1024)
    reply = await call(
        small, "PUT", JOBS, body=b" " * 4096, chunk=512, headers={"Content-Length": "1"}
    )
    assert error_of(reply)["Status"] == 413


async def test_sanitize_warnings_follow_bacalhau(
    api: Api, backend: FakeBackend
) -> None:
    job = docker_job()
    job.update(
        ID="j-mine",
        State={"StateType": "Running"},
        Revision=3,
        Version=2,
        CreateTime=5,
        ModifyTime=6,
        Meta={"bacalhau.org/requester.id": "x", "mine": "kept"},
    )
    job["Tasks"] = job["Tasks"] * 2
    reply = await api("PUT", JOBS, json={"Job": job})
    warnings = reply.json()["Warnings"]
    assert warnings == [
        "job state is ignored when submitting a job",
        "job revision is ignored when submitting a job",
        "job version is ignored when submitting a job",
        "job create time is ignored when submitting a job",
        "job modify time is ignored when submitting a job",
        "job ID is ignored when submitting a batch job",
        "only one task is supported per job",
        'job meta key "bacalhau.org/requester.id" is reserved and will be ignored',
        "fake backend warning",
    ]
    sent, passed = backend.submitted[0]
    assert passed == warnings[:-1]
    assert (sent.ID, sent.Revision, sent.Version, sent.CreateTime, len(sent.Tasks)) == (
        "",
        0,
        0,
        0,
        1,
    )
    assert sent.Meta == {"mine": "kept"}
    assert sent.State.StateType.name == "Undefined"


def test_sanitize_keeps_service_job_id() -> None:
    job = Job.model_validate({**job_spec(), "ID": "svc-1", "Type": "service"})
    clean, warnings = sanitize(job)
    assert (clean.ID, warnings) == ("svc-1", [])


async def test_client_ids_from_headers_go_to_meta(
    api: Api, backend: FakeBackend
) -> None:
    headers = {"X-Bacalhau-InstallationID": "inst-1", "X-Bacalhau-InstanceID": "run-2"}
    assert (
        await api("PUT", JOBS, json={"Job": docker_job()}, headers=headers)
    ).status == 200
    meta = backend.submitted[0][0].Meta
    assert meta["bacalhau.org/client.installation.id"] == "inst-1"
    assert meta["bacalhau.org/client.instance.id"] == "run-2"


async def test_backend_invalid_job_is_400(api: Api) -> None:
    body = error_of(
        await api("PUT", JOBS, json={"Job": {**docker_job(), "Name": "reject-me"}})
    )
    assert body["Status"] == 400
    assert body["Code"] == "ValidationError"
    assert (
        body["Message"]
        == "invalid job spec: Job.Name: that name is refused by the fake"
    )


async def test_backend_crash_is_500(api: Api, backend: FakeBackend) -> None:
    backend.fail_with = RuntimeError("disk on fire")
    body = error_of(await api("PUT", JOBS, json={"Job": docker_job()}))
    assert (body["Status"], body["Message"]) == (500, "Internal server error")


async def test_a_node_whose_job_store_is_full_answers_503_with_a_hint(
    api: Api, backend: FakeBackend
) -> None:
    backend.fail_with = StorageUnavailable("/repo/jobs.db", "database or disk is full")
    reply = await api("PUT", JOBS, json={"Job": docker_job()})
    assert reply.status == 503
    error = error_of(reply)
    assert error["Code"] == "ServiceUnavailable"
    assert "disk is full" in error["Message"]
    assert "free disk space" in error["Hint"]
