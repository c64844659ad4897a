"""Executions: one attempt to run a job's task on one compute node."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .base import WireModel
from .job import Job as _Job
from .job import SpecConfig
from .resources import Resources
from .states import ExecutionDesiredStateType, ExecutionStateType
from .states import State as _State


class RunCommandResult(WireModel):
    """What a task printed and how it exited (Bacalhau's `RunOutput`)."""

    Stdout: str = ""
    StdoutTruncated: bool = False
    STDERR: str = Field("", alias="stderr")
    StderrTruncated: bool = False
    ExitCode: int = 0
    ErrorMsg: str = ""


class AllocatedResources(WireModel):
    """Resources held by an execution, per task name."""

    Tasks: dict[str, Resources] = Field(default_factory=dict)

    def total(self) -> Resources:
        total = Resources()
        for amount in self.Tasks.values():
            total = total + amount
        return total


_AllocatedResources = AllocatedResources


def _new_state() -> _State[ExecutionStateType]:
    return _State[ExecutionStateType](StateType=ExecutionStateType.New)


def _pending() -> _State[ExecutionDesiredStateType]:
    return _State[ExecutionDesiredStateType](
        StateType=ExecutionDesiredStateType.Pending
    )


class Execution(WireModel):
    """An execution as stored by the orchestrator and shown by the API."""

    ID: str
    Namespace: str = "default"
    EvalID: str = ""
    Name: str = ""
    NodeID: str = ""
    JobID: str
    Job: _Job | None = None
    JobVersion: int = 0
    AllocatedResources: _AllocatedResources = Field(default_factory=_AllocatedResources)
    DesiredState: _State[ExecutionDesiredStateType] = Field(default_factory=_pending)
    ComputeState: _State[ExecutionStateType] = Field(default_factory=_new_state)
    PublishedResult: SpecConfig = Field(default_factory=SpecConfig)
    RunOutput: RunCommandResult | None = None
    PreviousExecution: str = ""
    NextExecution: str = ""
    FollowupEvalID: str = ""
    Revision: int = 0
    CreateTime: int = 0
    ModifyTime: int = 0

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            keep = {"RunOutput", "Job"}
            return {k: v for k, v in data.items() if v is not None or k in keep}
        return data

    @property
    def state(self) -> ExecutionStateType:
        return self.ComputeState.StateType
