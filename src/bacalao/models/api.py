"""Request and response bodies of the v1 REST API (Bacalhau's `apimodels`).

The server serialises these with `model_dump_json()` and the client parses
them with `model_validate_json()`, so both sides share one definition. Go
encodes an empty slice as `null`; every list here accepts `null` as empty.
Optional sections (`GetJobResponse.History`, `APIError.Hint`, ...) are left
out of the JSON when absent, as Go's `omitempty` does.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from .base import WireModel
from .execution import Execution
from .history import JobHistory
from .job import Job as _Job
from .job import SpecConfig
from .node import NodeState


def _none_is_empty(value: Any) -> Any:
    return [] if value is None else value


def _none_is_text(value: Any) -> Any:
    return "" if value is None else value


class PutJobRequest(WireModel):
    """Body of `PUT /api/v1/orchestrator/jobs`."""

    Job: _Job
    Force: bool = False
    # sent by Bacalhau's Go client (its BaseRequest); accepted, not used
    Namespace: str = ""
    IdempotencyToken: str = ""
    Credential: dict[str, Any] | None = None


class PutJobResponse(WireModel):
    """The submitted job's ID, its first evaluation and any warnings."""

    JobID: str
    EvaluationID: str = ""
    Warnings: list[str] = Field(default_factory=list)

    _lists = field_validator("Warnings", mode="before")(_none_is_empty)


class ListResponse(WireModel):
    """Base of every list response: `NextToken` is "" on the last page."""

    NextToken: str = ""

    _token = field_validator("NextToken", mode="before")(_none_is_text)


class ListJobsResponse(ListResponse):
    """A page of jobs (`GET /api/v1/orchestrator/jobs`)."""

    Items: list[_Job] = Field(default_factory=list)

    _lists = field_validator("Items", mode="before")(_none_is_empty)


class ListJobHistoryResponse(ListResponse):
    """A page of a job's history; the token stays set while more may come."""

    Items: list[JobHistory] = Field(default_factory=list)

    _lists = field_validator("Items", mode="before")(_none_is_empty)


class ListJobExecutionsResponse(ListResponse):
    """A page of a job's executions."""

    Items: list[Execution] = Field(default_factory=list)

    _lists = field_validator("Items", mode="before")(_none_is_empty)


class ListJobResultsResponse(ListResponse):
    """The published results (`Execution.PublishedResult`) of a job."""

    Items: list[SpecConfig] = Field(default_factory=list)

    _lists = field_validator("Items", mode="before")(_none_is_empty)


class GetJobResponse(WireModel):
    """A job, with its history and executions when asked for by `include`."""

    Job: _Job
    History: ListJobHistoryResponse | None = None
    Executions: ListJobExecutionsResponse | None = None

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        for key in ("History", "Executions"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class ListJobVersionsResponse(ListResponse):
    """Every version of a job, oldest first (`GET .../jobs/{id}/versions`)."""

    Items: list[_Job] = Field(default_factory=list)

    _lists = field_validator("Items", mode="before")(_none_is_empty)


class DiffJobRequest(WireModel):
    """Body of `PUT /api/v1/orchestrator/jobs/diff`: a spec to compare with
    the stored job of its name."""

    Job: _Job
    Namespace: str = ""  # Bacalhau's BaseRequest; accepted, not used


class DiffJobResponse(WireModel):
    """A unified diff from the stored job to the spec ("" if the same)."""

    Diff: str = ""
    Warnings: list[str] = Field(default_factory=list)

    _lists = field_validator("Warnings", mode="before")(_none_is_empty)
    _text = field_validator("Diff", mode="before")(_none_is_text)


class RerunJobRequest(WireModel):
    """Body of `PUT .../jobs/{id}/rerun`; `JobVersion` 0 is the latest."""

    JobVersion: int = Field(0, ge=0)
    Reason: str = ""
    Namespace: str = ""


class RerunJobResponse(WireModel):
    """The job rerun, the version the rerun made, and its evaluation."""

    EvaluationID: str = ""
    JobID: str
    JobVersion: int
    Warnings: list[str] = Field(default_factory=list)

    _lists = field_validator("Warnings", mode="before")(_none_is_empty)


class StopJobRequest(WireModel):
    """Body of `DELETE /api/v1/orchestrator/jobs/{id}`; the key is lowercase."""

    Reason: str = Field("", alias="reason")


class StopJobResponse(WireModel):
    """`EvaluationID` is "" when the job was already stopped."""

    EvaluationID: str = ""


class PutNodeRequest(WireModel):
    """Body of `PUT /api/v1/orchestrator/nodes/{id}`: an operator's action."""

    Action: str = Field(min_length=1)
    Message: str = ""
    NodeID: str = ""


class PutNodeResponse(WireModel):
    Success: bool = True
    Error: str = ""


class GetNodeResponse(WireModel):
    """One node (`GET /api/v1/orchestrator/nodes/{id}`)."""

    Node: NodeState


class ListNodesResponse(ListResponse):
    """The nodes this node knows of; note the key is `Nodes`, not `Items`."""

    Nodes: list[NodeState] = Field(default_factory=list)

    _lists = field_validator("Nodes", mode="before")(_none_is_empty)


class IsAliveResponse(WireModel):
    """`{"Status": "OK"}` while the node serves requests."""

    Status: str = "OK"

    @property
    def is_ready(self) -> bool:
        return self.Status == "OK"


class ExecutionLog(WireModel):
    """One line of a task's output; `Type` 1 is stdout, 2 stderr. As
    Bacalhau sends it, `Line` ends with its newline."""

    Type: int = 0
    Line: str = ""


class LogStreamMessage(WireModel):
    """One frame of the logs websocket: a line, or an `error` that ends it."""

    value: ExecutionLog = Field(default_factory=ExecutionLog)
    error: str = ""

    @model_serializer(mode="wrap")
    def _omit_no_error(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not data.get("error"):
            data.pop("error", None)
        return data


class APIError(WireModel):
    """The error body every failed request gets (Bacalhau's `APIError`)."""

    Status: int
    Message: str = ""
    RequestID: str = ""
    Code: str = ""
    Component: str = ""
    Hint: str = ""
    Details: dict[str, Any] | None = None

    @model_serializer(mode="wrap")
    def _omit_empty(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        for key in ("Hint", "Details"):
            if not data.get(key):
                data.pop(key, None)
        return data


__all__ = [
    "APIError",
    "DiffJobRequest",
    "DiffJobResponse",
    "ExecutionLog",
    "GetJobResponse",
    "GetNodeResponse",
    "IsAliveResponse",
    "ListJobExecutionsResponse",
    "ListJobHistoryResponse",
    "ListJobResultsResponse",
    "ListJobVersionsResponse",
    "ListJobsResponse",
    "ListNodesResponse",
    "ListResponse",
    "LogStreamMessage",
    "PutJobRequest",
    "PutJobResponse",
    "RerunJobRequest",
    "RerunJobResponse",
    "StopJobRequest",
    "StopJobResponse",
]
