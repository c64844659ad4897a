"""Submitting a job: defaults, IDs, and refusals that name the field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bacalao.models.data_url import encode_data_url
from bacalao.models.job import Job
from bacalao.models.states import JobStateType
from bacalao.orchestrator.exceptions import InvalidJob
from bacalao.orchestrator.submission import (
    LEGACY_WASM_TARGET,
    JobDefaults,
    check_job,
    prepare_job,
)

from .support import make_job

NOW = 1_700_000_000_000_000_000
JOB_ID = re.compile(
    r"^j-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
DOCKER = {"Image": "ubuntu"}
INLINE = {"Type": "inline", "Params": {"URL": encode_data_url(b"hi")}}


def _prepare(job: Job) -> Job:
    return prepare_job(job, node_id="n-orch", now_ns=NOW, defaults=JobDefaults())


def _refusal(job: Job) -> InvalidJob:
    with pytest.raises(InvalidJob) as exc:
        _prepare(job)
    return exc.value


def test_prepared_job_gets_id_name_state_and_times() -> None:
    stored = _prepare(make_job("docker", DOCKER))
    assert JOB_ID.match(stored.ID)
    assert stored.Name == stored.ID
    assert stored.Namespace == "default"
    assert stored.State.StateType == JobStateType.Pending
    assert (stored.Version, stored.Revision) == (1, 1)
    assert stored.CreateTime == stored.ModifyTime == NOW
    assert stored.Meta["bacalhau.org/orchestrator.id"] == "n-orch"
    assert stored.Meta["bacalhau.org/requester.id"] == "n-orch"


def test_each_submission_gets_a_new_id() -> None:
    job = make_job("docker", DOCKER, ID="j-mine", Name="mine")
    first, second = _prepare(job), _prepare(job)
    assert first.ID != second.ID
    assert first.ID != "j-mine"
    assert first.Name == "mine"


def test_default_resources() -> None:
    task = _prepare(make_job("docker", DOCKER)).task
    assert (task.Resources.CPU, task.Resources.Memory) == ("500m", "512Mb")


def test_given_resources_are_kept() -> None:
    job = make_job("docker", DOCKER, task={"Resources": {"CPU": "2", "Memory": "1GiB"}})
    task = _prepare(job).task
    assert (task.Resources.CPU, task.Resources.Memory) == ("2", "1GiB")


def test_operator_defaults_apply() -> None:
    stored = prepare_job(
        make_job("docker", DOCKER),
        node_id="n",
        now_ns=NOW,
        defaults=JobDefaults(cpu="1", memory="2Gb"),
    )
    assert (stored.task.Resources.CPU, stored.task.Resources.Memory) == ("1", "2Gb")


def test_submitted_state_and_counters_are_ignored() -> None:
    job = make_job(
        "noop",
        State={"StateType": "Completed"},
        Revision=9,
        Version=9,
        CreateTime=5,
    )
    stored = _prepare(job)
    assert stored.State.StateType == JobStateType.Pending
    assert (stored.Revision, stored.Version, stored.CreateTime) == (1, 1, NOW)


@pytest.mark.parametrize("job_type", ["daemon", "ops"])
def test_jobs_that_run_everywhere_get_count_zero(job_type: str) -> None:
    assert _prepare(make_job("noop", Type=job_type, Count=1)).Count == 0


def test_submitted_job_is_not_modified() -> None:
    job = make_job("docker", DOCKER)
    before = job.model_dump()
    _prepare(job)
    assert job.model_dump() == before


def test_legacy_wasm_entry_module_becomes_an_input() -> None:
    module = {"Source": INLINE, "Alias": ""}
    stored = _prepare(make_job("wasm", {"EntryModule": module}))
    task = stored.task
    assert task.Engine.Params["EntryModule"] == LEGACY_WASM_TARGET
    assert [(i.Source.Type, i.Target) for i in task.InputSources] == [
        ("inline", LEGACY_WASM_TARGET)
    ]


def test_legacy_wasm_entry_module_keeps_its_target() -> None:
    module = {"Source": INLINE, "Target": "/app/mod.wasm"}
    task = _prepare(make_job("wasm", {"entrymodule": module})).task
    assert task.Engine.Params["entrymodule"] == "/app/mod.wasm"
    assert task.InputSources[0].Target == "/app/mod.wasm"


def test_modern_wasm_spec_is_kept() -> None:
    job = make_job(
        "wasm",
        {"EntryModule": "/app/m.wasm"},
        task={"InputSources": [{"Source": INLINE, "Target": "/app/m.wasm"}]},
    )
    task = _prepare(job).task
    assert task.Engine.Params == {"EntryModule": "/app/m.wasm"}
    assert len(task.InputSources) == 1


def test_bad_legacy_wasm_entry_module_names_the_field() -> None:
    error = _refusal(make_job("wasm", {"EntryModule": {"Source": "nope"}}))
    assert error.field == "Job.Tasks.0.Engine.Params.EntryModule"


def _with_input(source: dict[str, Any], target: str = "/inputs") -> Job:
    return make_job(
        "docker", DOCKER, task={"InputSources": [{"Source": source, "Target": target}]}
    )


@pytest.mark.parametrize(
    ("job", "field"),
    [
        (make_job("docker", {}), "Job.Tasks.0.Engine.Params.Image"),
        (
            make_job("docker", {"Image": "x", "WorkingDirectory": "rel"}),
            "Job.Tasks.0.Engine.Params.WorkingDirectory",
        ),
        (make_job("wasm", {}), "Job.Tasks.0.Engine.Params.EntryModule"),
        (make_job("python"), "Job.Tasks.0.Engine.Type"),
        (
            _with_input({"Type": "inline", "Params": {"URL": "data:;base64,!!"}}),
            "Job.Tasks.0.InputSources.0.Source.Params.URL",
        ),
        (
            _with_input({"Type": "inline", "Params": {}}),
            "Job.Tasks.0.InputSources.0.Source.Params.URL",
        ),
        (_with_input(INLINE, target="inputs"), "Job.Tasks.0.InputSources.0.Target"),
        (_with_input({"Type": "gopher"}), "Job.Tasks.0.InputSources.0.Source.Type"),
        (
            make_job("docker", DOCKER, task={"Publisher": {"Type": "dropbox"}}),
            "Job.Tasks.0.Publisher.Type",
        ),
        (
            make_job(
                "docker", DOCKER, task={"ResultPaths": [{"Name": "o", "Path": "o"}]}
            ),
            "Job.Tasks.0.ResultPaths.0.Path",
        ),
        (make_job("docker", DOCKER, Count=0), "Job.Count"),
    ],
    ids=[
        "docker-no-image",
        "docker-relative-workdir",
        "wasm-no-module",
        "unknown-engine",
        "bad-data-url",
        "inline-without-url",
        "relative-target",
        "unknown-source",
        "unknown-publisher",
        "relative-result-path",
        "batch-count-zero",
    ],
)
def test_refusals_name_the_field(job: Job, field: str) -> None:
    error = _refusal(job)
    assert error.field == field
    assert str(error).startswith(f"invalid job spec: {field}: ")
    assert error.status == 400


def test_unknown_publisher_message_lists_known_ones() -> None:
    error = _refusal(make_job("docker", DOCKER, task={"Publisher": {"Type": "ftp"}}))
    assert "local" in error.reason
    assert "'ftp'" in error.reason


def test_inline_source_reads_lowercase_url_key() -> None:
    job = _with_input({"Type": "inline", "Params": {"url": encode_data_url(b"x")}})
    check_job(job)  # does not raise
    assert _prepare(job).task.InputSources[0].Source.Type == "inline"


def test_engine_type_in_any_case_is_accepted() -> None:
    assert _prepare(make_job("Docker", DOCKER)).task.Engine.Type == "Docker"


def test_check_job_accepts_a_complete_valid_spec() -> None:
    job = make_job(
        "docker",
        DOCKER,
        task={
            "Publisher": {"Type": "local"},
            "InputSources": [{"Source": INLINE, "Target": "/in"}],
            "ResultPaths": [{"Name": "out", "Path": "/out"}],
            "Resources": {"CPU": "1", "Memory": "1Gb", "GPU": "0"},
        },
    )
    check_job(job)
    assert _prepare(job).task.ResultPaths[0].Path == "/out"
