"""Job history: the ordered events of a job and of its executions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import core_schema

from .base import WireModel
from .states import ExecutionStateType, JobStateType, _NamedIntEnum, name_schema


class JobHistoryType(_NamedIntEnum):
    """Whether an event concerns the job or one execution; JSON as its name."""

    Undefined = 0
    JobLevel = 1
    ExecutionLevel = 2

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return name_schema(cls)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(WireModel):
    """Something that happened, with a message a person can read."""

    Message: str = ""
    Topic: str = ""
    Timestamp: datetime = Field(default_factory=utcnow)
    Details: dict[str, str] = Field(default_factory=dict)


_Event = Event

S = TypeVar("S", JobStateType, ExecutionStateType)


class StateChange(WireModel, Generic[S]):
    Previous: S
    New: S


class JobHistory(WireModel):
    """One entry of a job's history."""

    SeqNum: int = 0
    Type: JobHistoryType = JobHistoryType.JobLevel
    JobID: str
    JobVersion: int = 0
    ExecutionID: str = ""
    NodeID: str = ""
    Event: _Event = Field(default_factory=_Event)
    Time: datetime = Field(default_factory=utcnow)
    JobState: StateChange[JobStateType] | None = None
    ExecutionState: StateChange[ExecutionStateType] | None = None
