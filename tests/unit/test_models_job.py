"""The job spec speaks Bacalhau's JSON: names, case, defaults, errors."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bacalao.models.job import Job, LabelSelectorRequirement, NetworkConfig, Task
from bacalao.models.states import JobStateType
from tests.effort import examples

from .strategies import jobs, json_values

BACALHAU_JOB_KEYS = {
    "ID",
    "Name",
    "Namespace",
    "Type",
    "Priority",
    "Count",
    "Constraints",
    "Meta",
    "Labels",
    "Tasks",
    "State",
    "Version",
    "Revision",
    "CreateTime",
    "ModifyTime",
}
BACALHAU_TASK_KEYS = {
    "Name",
    "Engine",
    "Publisher",
    "Env",
    "Meta",
    "InputSources",
    "ResultPaths",
    "Resources",
    "Network",
    "Timeouts",
}

LOWER_CASE_KEYS_SPEC = {
    "name": "greeting-in-lower-case-keys",
    "type": "batch",
    "count": 1,
    "tasks": [
        {
            "name": "say-hello",
            "engine": {
                "type": "docker",
                "params": {
                    "Image": "busybox:1.37.0",
                    "Entrypoint": ["/bin/sh"],
                    "Parameters": ["-c", "echo hello from a lower-case spec"],
                },
            },
        }
    ],
}


def _locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in exc.value.errors()]


def _job(**fields: Any) -> dict[str, Any]:
    return {"Tasks": [{"Engine": {"Type": "noop"}}], **fields}


# -- names and shapes ------------------------------------------------------


def test_job_json_uses_bacalhau_field_names() -> None:
    body = json.loads(Job.model_validate(_job()).model_dump_json())
    assert set(body) == BACALHAU_JOB_KEYS
    assert set(body["Tasks"][0]) == BACALHAU_TASK_KEYS
    assert set(body["State"]) >= {"StateType"}
    assert set(body["Tasks"][0]["Engine"]) == {"Type", "Params"}


def test_lowercase_keys_of_bacalhau_yaml_specs_are_understood() -> None:
    job = Job.model_validate(LOWER_CASE_KEYS_SPEC)
    assert job.Name == "greeting-in-lower-case-keys"
    assert job.Type == "batch"
    assert job.task.Name == "say-hello"
    assert job.task.Engine.Type == "docker"
    assert job.task.Engine.Params["Image"] == "busybox:1.37.0"


def test_keys_match_in_any_case() -> None:
    job = Job.model_validate_json(
        json.dumps(
            {
                "NAME": "x",
                "tYpE": "ops",
                "TASKS": [{"ENGINE": {"TYPE": "noop"}, "resources": {"cpu": "1"}}],
            }
        )
    )
    assert (job.Name, job.Type, job.task.Resources.CPU) == ("x", "ops", "1")


def test_unknown_keys_are_ignored() -> None:
    body = _job(Frobnicate=1, Tasks=[{"Engine": {"Type": "noop"}, "Sidecar": {}}])
    job = Job.model_validate(body)
    dumped = json.loads(job.model_dump_json())
    assert "Frobnicate" not in dumped
    assert "Sidecar" not in dumped["Tasks"][0]


def test_defaults_of_a_minimal_job() -> None:
    job = Job.model_validate(_job())
    assert (job.Type, job.Count, job.Namespace) == ("batch", 1, "default")
    assert job.task.Name == "main"
    assert job.State.StateType == JobStateType.Undefined


def test_nulls_mean_defaults() -> None:
    job = Job.model_validate(
        _job(Meta=None, Labels=None, Constraints=None, Type=None, Namespace=None)
    )
    assert (job.Meta, job.Labels, job.Constraints) == ({}, {}, [])
    assert (job.Type, job.Namespace) == ("batch", "default")
    task = Task.model_validate(
        {"Engine": {"Type": "noop", "Params": None}, "Env": None}
    )
    assert task.Engine.Params == {}
    assert task.Env == {}


def test_job_state_serialises_as_its_name() -> None:
    job = Job.model_validate(_job(State={"StateType": 4}))
    assert json.loads(job.model_dump_json())["State"]["StateType"] == "Completed"


@pytest.mark.parametrize("value", ["Completed", "completed", " COMPLETED ", 4, "4"])
def test_job_state_parses_name_or_number(value: object) -> None:
    job = Job.model_validate(_job(State={"StateType": value}))
    assert job.State.StateType == JobStateType.Completed


def test_numeric_network_type_is_read_as_its_name() -> None:
    assert NetworkConfig.model_validate({"Type": 2}).Type == "Host"
    assert NetworkConfig.model_validate({"Type": "http"}).Type == "HTTP"


# -- round trip and fuzzing -----------------------------------------------


@settings(max_examples=examples(100), deadline=None)
@given(jobs())
def test_json_round_trip(spec: dict[str, Any]) -> None:
    job = Job.model_validate(spec)
    again = Job.model_validate_json(job.model_dump_json())
    assert again == job
    assert again.model_dump_json() == job.model_dump_json()


@settings(max_examples=examples(100), deadline=None)
@given(jobs())
def test_round_trip_through_lowercased_keys(spec: dict[str, Any]) -> None:
    """A spec whose top-level keys are lowercased reads as the same job."""
    job = Job.model_validate(spec)
    lowered = {k.lower(): v for k, v in json.loads(job.model_dump_json()).items()}
    assert Job.model_validate(lowered) == job


def _random_case(draw: st.DrawFn, key: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(key), max_size=len(key)))
    return "".join(
        c.upper() if f else c.lower() for c, f in zip(key, flips, strict=True)
    )


@st.composite
def job_shaped(draw: st.DrawFn) -> Any:
    """Dicts with Job/Task field names (any case) holding random JSON values."""
    body: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(BACALHAU_JOB_KEYS)), max_size=8)):
        body[_random_case(draw, name)] = draw(json_values)
    task: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(BACALHAU_TASK_KEYS)), max_size=6)):
        task[_random_case(draw, name)] = draw(json_values)
    body["Tasks"] = [task]
    return body


@settings(max_examples=examples(300), deadline=None)
@given(json_values | job_shaped())
def test_random_json_only_ever_fails_validation(value: Any) -> None:
    with contextlib.suppress(ValidationError):
        Job.model_validate_json(json.dumps(value))


@settings(max_examples=examples(200), deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_ever_fail_validation(data: bytes) -> None:
    with pytest.raises(ValidationError):
        Job.model_validate_json(data)


@pytest.mark.parametrize(
    "resources",
    [
        {"Memory": "1" * 400},
        {"Disk": "9" * 300 + "Tb"},
    ],
    ids=["memory-digits", "disk-digits"],
)
def test_absurd_sizes_fail_validation(resources: dict[str, str]) -> None:
    """Sizes beyond any float are a bad spec, not a crash (OverflowError)."""
    body = {"Tasks": [{"Engine": {"Type": "noop"}, "Resources": resources}]}
    with pytest.raises(ValidationError) as exc:
        Job.model_validate_json(json.dumps(body))
    assert f"Tasks.0.Resources.{next(iter(resources))}" in _locs(exc)


# -- errors name the field --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "Tasks"),
        ({"Tasks": []}, "Tasks"),
        ({"Tasks": [{}]}, "Tasks.0.Engine"),
        ({"Tasks": [{"Engine": {"Type": ""}}]}, "Tasks.0.Engine"),
        (_job(Type="cron"), "Type"),
        (_job(Count=-1), "Count"),
        (_job(Constraints=[{"Key": "a", "Operator": "~"}]), "Constraints.0.Operator"),
        (_job(Constraints=[{"Key": "", "Operator": "="}]), "Constraints.0.Key"),
        (_job(State={"StateType": "Exploded"}), "State.StateType"),
        (
            {"Tasks": [{"Engine": {"Type": "noop"}, "Resources": {"CPU": "lots"}}]},
            "Tasks.0.Resources.CPU",
        ),
        (
            {
                "Tasks": [
                    {"Engine": {"Type": "noop"}, "Resources": {"Memory": "5 apples"}}
                ]
            },
            "Tasks.0.Resources.Memory",
        ),
        (
            {"Tasks": [{"Engine": {"Type": "noop"}, "Network": {"Type": "Mesh"}}]},
            "Tasks.0.Network.Type",
        ),
        (
            {"Tasks": [{"Engine": {"Type": "noop"}, "Timeouts": {"QueueTimeout": -1}}]},
            "Tasks.0.Timeouts.QueueTimeout",
        ),
        (
            {"Tasks": [{"Engine": {"Type": "noop"}, "ResultPaths": [{"Name": "o"}]}]},
            "Tasks.0.ResultPaths.0.Path",
        ),
    ],
)
def test_validation_error_names_the_field(body: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Job.model_validate_json(json.dumps(body))
    assert where in _locs(exc)


def test_daemon_and_ops_jobs_cannot_ask_for_several_nodes() -> None:
    for job_type in ("daemon", "ops"):
        with pytest.raises(ValidationError, match="every matching node"):
            Job.model_validate(_job(Type=job_type, Count=3))
    assert Job.model_validate(_job(Type="service", Count=3)).Count == 3


def test_null_characters_are_refused_in_identifiers() -> None:
    for field in ("ID", "Name", "Namespace"):
        with pytest.raises(ValidationError) as exc:
            Job.model_validate(_job(**{field: "a\x00b"}))
        assert field in _locs(exc)


@pytest.mark.parametrize(
    ("inputs", "results", "message"),
    [
        (
            [{"Source": {"Type": "inline"}, "Target": "/a"}] * 2,
            [],
            "target '/a' is used twice",
        ),
        (
            [
                {"Source": {"Type": "inline"}, "Target": "/a", "Alias": "x"},
                {"Source": {"Type": "inline"}, "Target": "/b", "Alias": "x"},
            ],
            [],
            "alias 'x' is used twice",
        ),
        ([], [{"Name": "o", "Path": "/o"}, {"Name": "o", "Path": "/p"}], "'o'"),
    ],
)
def test_duplicate_inputs_and_results_are_refused(
    inputs: list[Any], results: list[Any], message: str
) -> None:
    task = {"Engine": {"Type": "noop"}, "InputSources": inputs, "ResultPaths": results}
    with pytest.raises(ValidationError, match=message):
        Job.model_validate({"Tasks": [task]})


def test_selector_values_default_to_empty() -> None:
    req = LabelSelectorRequirement.model_validate(
        {"key": "gpu", "operator": "exists", "values": None}
    )
    assert (req.Key, req.Operator, req.Values) == ("gpu", "exists", [])


def test_job_type_properties() -> None:
    assert Job.model_validate(_job(Type="ops", Count=0)).runs_everywhere
    assert Job.model_validate(_job(Type="daemon", Count=0)).long_running
    batch = Job.model_validate(_job())
    assert not batch.runs_everywhere
    assert not batch.long_running
