"""One check of a job spec: the same fault reads the same in the API, the
orchestrator and the CLI (the dotted field and the reason)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bacalao.api.errors import InvalidSubmission
from bacalao.api.submission import parse_put_job
from bacalao.cli.errors import CliError
from bacalao.cli.specfile import validate_spec
from bacalao.models.job import Job
from bacalao.orchestrator.exceptions import InvalidJob
from bacalao.orchestrator.submission import check_job
from bacalao.validation import InvalidSpec, validate_job
from tests.effort import examples

from .strategies import json_values


def spec(**task: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Name": "main",
        "Engine": {"Type": "docker", "Params": {"Image": "busybox"}},
    }
    return {"Type": "batch", "Count": 1, "Tasks": [{**base, **task}]}


FAULTS = [
    (
        spec(Engine={"Type": "docker", "Params": {}}),
        "Job.Tasks.0.Engine.Params.Image: Field required",
    ),
    (
        spec(Engine={"Type": "cobol", "Params": {}}),
        "Job.Tasks.0.Engine.Type: unknown engine",
    ),
    (
        spec(ResultPaths=[{"Name": "out", "Path": "relative"}]),
        "Job.Tasks.0.ResultPaths.0.Path: must be an absolute path",
    ),
    (
        spec(Publisher={"Type": "carrier-pigeon"}),
        "Job.Tasks.0.Publisher.Type: unknown publisher 'carrier-pigeon'",
    ),
    (
        spec(
            InputSources=[
                {"Source": {"Type": "urlDownload", "Params": {}}, "Target": "/in"}
            ]
        ),
        "Job.Tasks.0.InputSources.0.Source.Params.",
    ),
]


@pytest.mark.parametrize(("data", "reads"), FAULTS)
def test_a_fault_reads_the_same_everywhere(data: dict[str, Any], reads: str) -> None:
    with pytest.raises(InvalidSpec) as checked:
        validate_job(data)
    text = str(checked.value.problems[0])
    assert text.startswith(reads)
    with pytest.raises(InvalidSubmission) as api:
        parse_put_job({"Job": data})
    assert api.value.message == f"invalid job spec: {text}"
    with pytest.raises(CliError) as cli:
        validate_spec(data, "job.yaml")
    assert cli.value.message == f"invalid job spec in job.yaml: {text}"
    with pytest.raises(InvalidJob) as orchestrator:
        check_job(Job.model_validate(data))
    assert orchestrator.value.message == f"invalid job spec: {text}"


def test_a_good_spec_passes() -> None:
    assert validate_job(spec()).task.Engine.Type == "docker"


@settings(max_examples=examples(200), deadline=None)
@given(json_values)
def test_any_data_is_a_job_or_a_named_fault(data: Any) -> None:
    with contextlib.suppress(InvalidSpec):
        validate_job(data)


@settings(max_examples=examples(200), deadline=None)
@given(
    st.fixed_dictionaries(
        {"Type": st.sampled_from(["batch", "ops", "service", "daemon"])},
        optional={"Count": st.integers(-3, 3), "Tasks": st.lists(json_values)},
    )
)
def test_job_shaped_data_is_a_job_or_a_named_fault(data: dict[str, Any]) -> None:
    problems = []
    try:
        validate_job(data)
    except InvalidSpec as exc:
        problems = exc.problems
        assert problems
    assert all(p.reason for p in problems)
