"""Job states travel as names, execution states as Bacalhau's integers."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bacalao.models.execution import Execution
from bacalao.models.states import (
    ExecutionDesiredStateType,
    ExecutionStateType,
    JobStateType,
    State,
)

E = ExecutionStateType

# Bacalhau's Go enums: the numbers its clients send and expect.
BACALHAU_JOB_STATES = {
    "Undefined": 0,
    "Pending": 1,
    "Queued": 2,
    "Running": 3,
    "Completed": 4,
    "Failed": 5,
    "Stopped": 6,
}
BACALHAU_EXECUTION_STATES = {
    "Undefined": 0,
    "New": 1,
    "AskForBid": 2,
    "AskForBidAccepted": 3,
    "AskForBidRejected": 4,
    "BidAccepted": 5,
    "Running": 6,
    "Publishing": 7,
    "BidRejected": 8,
    "Completed": 9,
    "Failed": 10,
    "Cancelled": 11,
}


def test_enum_values_match_bacalhau() -> None:
    assert {s.name: s.value for s in JobStateType} == BACALHAU_JOB_STATES
    assert {s.name: s.value for s in ExecutionStateType} == BACALHAU_EXECUTION_STATES
    assert {s.name: s.value for s in ExecutionDesiredStateType} == {
        "Pending": 0,
        "Running": 1,
        "Stopped": 2,
    }


@pytest.mark.parametrize("state", list(JobStateType))
def test_job_state_json_is_the_name(state: JobStateType) -> None:
    body = State[JobStateType](StateType=state).model_dump_json()
    assert json.loads(body)["StateType"] == state.name
    assert State[JobStateType].model_validate_json(body).StateType == state


@pytest.mark.parametrize("state", list(ExecutionStateType))
def test_execution_state_json_is_the_number(state: ExecutionStateType) -> None:
    body = State[ExecutionStateType](StateType=state).model_dump_json()
    assert json.loads(body)["StateType"] == state.value
    assert State[ExecutionStateType].model_validate_json(body).StateType == state


@pytest.mark.parametrize("value", [9, "9", "Completed", "completed", " COMPLETED "])
def test_execution_state_parses_number_or_name(value: object) -> None:
    state = State[ExecutionStateType].model_validate({"StateType": value})
    assert state.StateType is E.Completed


def test_desired_state_is_a_number_both_ways() -> None:
    execution = Execution.model_validate(
        {"ID": "e-1", "JobID": "j-1", "DesiredState": {"StateType": "Stopped"}}
    )
    body = json.loads(execution.model_dump_json())
    assert body["DesiredState"]["StateType"] == 2
    assert body["ComputeState"]["StateType"] == E.New.value


@pytest.mark.parametrize("value", ["Exploded", 99, -1, True, None, 1.5, "", "--1"])
def test_unknown_job_states_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        State[JobStateType].model_validate({"StateType": value})
    assert exc.value.errors()[0]["loc"] == ("StateType",)


def test_refusal_lists_the_known_names() -> None:
    with pytest.raises(ValidationError, match=r"Pending.*Completed"):
        State[JobStateType].model_validate({"StateType": "Done"})


@pytest.mark.parametrize("value", ["Finished", 12, False])
def test_unknown_execution_states_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        State[ExecutionStateType].model_validate({"StateType": value})


def test_terminal_job_states() -> None:
    terminal = {s for s in JobStateType if s.terminal}
    assert terminal == {
        JobStateType.Completed,
        JobStateType.Failed,
        JobStateType.Stopped,
    }


def test_terminal_execution_states_match_bacalhau() -> None:
    terminal = {s for s in ExecutionStateType if s.terminal}
    assert terminal == {
        E.AskForBidRejected,
        E.BidRejected,
        E.Completed,
        E.Failed,
        E.Cancelled,
    }


def test_active_executions_are_those_holding_a_node() -> None:
    active = {s for s in ExecutionStateType if s.active}
    assert active == {
        E.AskForBid,
        E.AskForBidAccepted,
        E.BidAccepted,
        E.Running,
        E.Publishing,
    }


def test_state_details_and_message() -> None:
    state = State[JobStateType].model_validate(
        {"stateType": "Failed", "message": "boom", "details": None}
    )
    assert (state.StateType, state.Message, state.Details) == (
        JobStateType.Failed,
        "boom",
        {},
    )
