"""Submitted specs are bounded before anything reads them, and what we
ignore is said, not silently dropped."""

from __future__ import annotations

from typing import Any

from bacalao.api.spec_bounds import MAX_DEPTH, MAX_SPEC_BYTES
from bacalao.models.api import PutJobResponse

from .asgi import error_of
from .conftest import Api
from .fakes import FakeBackend, job_spec

JOBS = "/api/v1/orchestrator/jobs"


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_deeply_nested_params_are_refused_naming_the_field(
    api: Api, backend: FakeBackend
) -> None:
    spec = job_spec("docker", Image="busybox", Extra=nested(400))
    reply = await api("PUT", JOBS, json={"Job": spec})
    assert reply.status == 400
    message = error_of(reply)["Message"]
    assert "Job.Tasks.0.Engine.Params.Extra" in message
    assert f"deeper than {MAX_DEPTH}" in message
    assert backend.submitted == []


async def test_nesting_within_the_limit_is_accepted(
    api: Api, backend: FakeBackend
) -> None:
    spec = job_spec("docker", Image="busybox", Extra=nested(MAX_DEPTH - 8))
    assert (await api("PUT", JOBS, json={"Job": spec})).status == 200


async def test_spec_over_the_size_limit_is_a_413_with_a_hint(
    api: Api, backend: FakeBackend
) -> None:
    spec = job_spec("docker", Image="busybox", Parameters=["x" * MAX_SPEC_BYTES])
    reply = await api("PUT", JOBS, json={"Job": spec})
    assert reply.status == 413
    error = error_of(reply)
    assert "over the limit" in error["Message"]
    assert "storage source" in error["Hint"]
    assert backend.submitted == []


async def test_count_beyond_any_network_is_refused(
    api: Api, backend: FakeBackend
) -> None:
    spec = {**job_spec("docker", Image="busybox"), "Count": 10**30}
    reply = await api("PUT", JOBS, json={"Job": spec})
    assert reply.status == 400
    assert "Job.Count" in error_of(reply)["Message"]


async def test_unknown_fields_come_back_as_warnings(
    api: Api, backend: FakeBackend
) -> None:
    spec = job_spec("docker", Image="busybox", Privileged=True)
    spec["Tasks"][0]["Resources"] = {"CPU": "1", "Cpus": 4}
    spec["Constraint"] = []  # a typo of Constraints
    reply = await api("PUT", JOBS, json={"Job": spec, "Force": False})
    assert reply.status == 200
    warnings = PutJobResponse.model_validate(reply.json()).Warnings
    assert "unknown field Job.Constraint is ignored" in warnings
    assert "unknown field Job.Tasks.0.Engine.Params.Privileged is ignored" in warnings
    assert "unknown field Job.Tasks.0.Resources.Cpus is ignored" in warnings


async def test_bacalhau_go_client_fields_are_not_warned_about(
    api: Api, backend: FakeBackend
) -> None:
    body = {
        "Job": job_spec("docker", Image="busybox"),
        "Namespace": "",
        "IdempotencyToken": "",
        "Credential": None,
    }
    reply = await api("PUT", JOBS, json=body)
    assert reply.status == 200
    warnings = PutJobResponse.model_validate(reply.json()).Warnings
    assert not [w for w in warnings if "unknown field" in w]
