"""Executions, history, nodes and messages keep Bacalhau's JSON shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bacalao.models.execution import AllocatedResources, Execution, RunCommandResult
from bacalao.models.history import (
    Event,
    JobHistory,
    JobHistoryType,
    StateChange,
)
from bacalao.models.node import NodeInfo, NodeState
from bacalao.models.resources import Resources
from bacalao.models.states import ExecutionStateType, JobStateType
from bacalao.models.wire import ExecutionUpdate, JobEvents, SyncRequest

from .support import make_job, make_node

BACALHAU_EXECUTION_KEYS = {
    "ID",
    "Namespace",
    "EvalID",
    "Name",
    "NodeID",
    "JobID",
    "Job",
    "JobVersion",
    "AllocatedResources",
    "DesiredState",
    "ComputeState",
    "PublishedResult",
    "RunOutput",
    "PreviousExecution",
    "NextExecution",
    "FollowupEvalID",
    "Revision",
    "CreateTime",
    "ModifyTime",
}


def test_run_output_keys_match_bacalhau_including_lowercase_stderr() -> None:
    output = RunCommandResult(Stdout="out", STDERR="err", ExitCode=2)
    body = json.loads(output.model_dump_json())
    assert body == {
        "Stdout": "out",
        "StdoutTruncated": False,
        "stderr": "err",
        "StderrTruncated": False,
        "ExitCode": 2,
        "ErrorMsg": "",
    }


@pytest.mark.parametrize("key", ["stderr", "STDERR", "Stderr"])
def test_run_output_stderr_is_read_in_any_case(key: str) -> None:
    assert RunCommandResult.model_validate({key: "err"}).STDERR == "err"


def test_execution_keys_match_bacalhau() -> None:
    execution = Execution(ID="e-1", JobID="j-1", RunOutput=RunCommandResult())
    body = json.loads(execution.model_dump_json())
    assert set(body) >= BACALHAU_EXECUTION_KEYS
    assert body["ComputeState"]["StateType"] == ExecutionStateType.New.value
    assert body["AllocatedResources"] == {"Tasks": {}}


def test_execution_round_trip_with_embedded_job() -> None:
    execution = Execution(
        ID="e-1",
        JobID="j-1",
        Job=make_job(),
        AllocatedResources=AllocatedResources(
            Tasks={"main": Resources(CPU=0.5, Memory=1000)}
        ),
        RunOutput=RunCommandResult(Stdout="hi", STDERR="oops"),
    )
    assert Execution.model_validate_json(execution.model_dump_json()) == execution


def test_execution_nulls_take_defaults_but_keep_missing_output() -> None:
    execution = Execution.model_validate(
        {
            "id": "e-1",
            "jobid": "j-1",
            "AllocatedResources": None,
            "PublishedResult": None,
            "RunOutput": None,
        }
    )
    assert execution.AllocatedResources == AllocatedResources()
    assert execution.RunOutput is None
    assert execution.state is ExecutionStateType.New


def test_allocated_resources_total() -> None:
    allocated = AllocatedResources(
        Tasks={"a": Resources(CPU=1, Memory=10), "b": Resources(CPU=0.5, GPU=1)}
    )
    assert allocated.total() == Resources(CPU=1.5, Memory=10, GPU=1)


def test_history_shape() -> None:
    entry = JobHistory(
        SeqNum=3,
        Type=JobHistoryType.ExecutionLevel,
        JobID="j-1",
        ExecutionID="e-1",
        Event=Event(Message="Running", Topic="Execution", Details={"NewState": "x"}),
        Time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        JobState=StateChange[JobStateType](
            Previous=JobStateType.Pending, New=JobStateType.Running
        ),
        ExecutionState=StateChange[ExecutionStateType](
            Previous=ExecutionStateType.New, New=ExecutionStateType.Running
        ),
    )
    body = json.loads(entry.model_dump_json())
    assert body["Type"] == "ExecutionLevel"
    assert body["JobState"] == {"Previous": "Pending", "New": "Running"}
    assert body["ExecutionState"] == {"Previous": 1, "New": 6}
    assert body["Time"].startswith("2024-01-02T03:04:05")
    assert set(body["Event"]) >= {"Message", "Topic", "Timestamp", "Details"}
    assert JobHistory.model_validate_json(entry.model_dump_json()) == entry


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("JobLevel", JobHistoryType.JobLevel),
        ("executionlevel", JobHistoryType.ExecutionLevel),
        (2, JobHistoryType.ExecutionLevel),
    ],
)
def test_history_type_parses_name_or_number(
    value: object, parsed: JobHistoryType
) -> None:
    entry = JobHistory.model_validate({"JobID": "j", "Type": value})
    assert entry.Type is parsed


def test_history_type_refuses_unknown() -> None:
    with pytest.raises(ValidationError):
        JobHistory.model_validate({"JobID": "j", "Type": "Sideways"})


def test_node_info_shape() -> None:
    info = make_node("n-1", labels={"zone": "a"})
    body = json.loads(info.model_dump_json())
    assert {
        "NodeID",
        "NodeType",
        "Labels",
        "SupportedProtocols",
        "ComputeNodeInfo",
        "BacalhauVersion",
    } <= set(body)
    assert body["NodeType"] == "Compute"
    assert {
        "ExecutionEngines",
        "Publishers",
        "StorageSources",
        "MaxCapacity",
        "QueueCapacity",
        "AvailableCapacity",
        "MaxJobRequirements",
        "RunningExecutions",
        "EnqueuedExecutions",
    } <= set(body["ComputeNodeInfo"])
    assert NodeInfo.model_validate_json(info.model_dump_json()) == info


def test_node_info_refuses_unknown_node_type() -> None:
    with pytest.raises(ValidationError) as exc:
        NodeInfo.model_validate({"NodeID": "n", "NodeType": "Toaster"})
    assert exc.value.errors()[0]["loc"] == ("NodeType",)


def test_node_state_shape() -> None:
    state = NodeState(Info=make_node("n-1"))
    body = json.loads(state.model_dump_json())
    assert body["Membership"] == "APPROVED"
    assert body["Connection"] == "CONNECTED"
    assert body["ConnectionState"]["Status"] == "CONNECTED"


def test_execution_update_state_is_a_number() -> None:
    update = ExecutionUpdate(
        ExecutionID="e", JobID="j", NodeID="n", State=ExecutionStateType.Completed
    )
    assert json.loads(update.model_dump_json())["State"] == 9
    parsed = ExecutionUpdate.model_validate_json(
        '{"ExecutionID":"e","JobID":"j","NodeID":"n","State":"Failed"}'
    )
    assert parsed.State is ExecutionStateType.Failed


@pytest.mark.parametrize(
    "body", [{"Limit": 0}, {"Limit": 10_000}, {"Since": -1}, {"Since": 2**63}]
)
def test_sync_request_bounds(body: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        SyncRequest.model_validate(body)


def test_job_events_batch_is_bounded() -> None:
    snapshot = {"RequesterID": "r", "Job": make_job().model_dump()}
    with pytest.raises(ValidationError):
        JobEvents.model_validate({"RequesterID": "r", "Jobs": [snapshot] * 257})
