"""Job and execution states, with the JSON forms Bacalhau's API uses.

Job states travel as names ("Completed"); execution states travel as the
integers of Bacalhau's Go enums (its clients decode them that way). Both
accept either form on input.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Generic, TypeVar

from pydantic import Field, GetCoreSchemaHandler, field_validator
from pydantic_core import core_schema

from .base import WireModel


class _NamedIntEnum(IntEnum):
    """An IntEnum that also parses its member names, case-insensitively."""

    @classmethod
    def parse(cls, value: Any) -> _NamedIntEnum:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            text = value.strip()
            if text.lstrip("-").isdigit():
                return cls(int(text))
            member = _names_of(cls).get(text.lower())
            if member is not None:
                return member
            names = ", ".join(m.name for m in cls)
            raise ValueError(f"unknown {cls.__name__} {value!r} (one of {names})")
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(value)
        raise ValueError(f"expected a {cls.__name__} name or number")


_NAMES: dict[type, dict[str, _NamedIntEnum]] = {}


def _names_of(cls: type[_NamedIntEnum]) -> dict[str, _NamedIntEnum]:
    """Members of `cls` by lower-case name (built once per enum)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = {m.name.lower(): m for m in cls}
    return names


def name_schema(cls: type[_NamedIntEnum]) -> core_schema.CoreSchema:
    """Parse names or numbers; serialise as the name."""
    return core_schema.no_info_plain_validator_function(
        cls.parse,
        serialization=core_schema.plain_serializer_function_ser_schema(
            lambda v: v.name, when_used="always"
        ),
        json_schema_input_schema=core_schema.str_schema(),
    )


class JobStateType(_NamedIntEnum):
    """A job's state; JSON as its name, e.g. "Running"."""

    Undefined = 0
    Pending = 1
    Queued = 2
    Running = 3
    Completed = 4
    Failed = 5
    Stopped = 6

    @property
    def terminal(self) -> bool:
        return self in (
            JobStateType.Completed,
            JobStateType.Failed,
            JobStateType.Stopped,
        )

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return name_schema(cls)


class ExecutionStateType(_NamedIntEnum):
    """An execution's observed state on its compute node; JSON as its number."""

    Undefined = 0
    New = 1
    AskForBid = 2
    AskForBidAccepted = 3
    AskForBidRejected = 4
    BidAccepted = 5
    Running = 6
    Publishing = 7
    BidRejected = 8
    Completed = 9
    Failed = 10
    Cancelled = 11

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL_EXECUTION

    @property
    def active(self) -> bool:
        """Holds (or is about to hold) resources on its node."""
        return not self.terminal and self not in (
            ExecutionStateType.Undefined,
            ExecutionStateType.New,
        )

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _int_enum_schema(cls)


_TERMINAL_EXECUTION = frozenset(
    {
        ExecutionStateType.AskForBidRejected,
        ExecutionStateType.BidRejected,
        ExecutionStateType.Completed,
        ExecutionStateType.Failed,
        ExecutionStateType.Cancelled,
    }
)


class ExecutionDesiredStateType(_NamedIntEnum):
    """What the orchestrator wants of an execution; JSON as its number."""

    Pending = 0
    Running = 1
    Stopped = 2

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _int_enum_schema(cls)


def _int_enum_schema(cls: type[_NamedIntEnum]) -> core_schema.CoreSchema:
    return core_schema.no_info_plain_validator_function(
        cls.parse,
        serialization=core_schema.plain_serializer_function_ser_schema(
            int, when_used="always"
        ),
        json_schema_input_schema=core_schema.int_schema(),
    )


S = TypeVar("S", JobStateType, ExecutionStateType, ExecutionDesiredStateType)


class State(WireModel, Generic[S]):
    """A state and why it was entered."""

    StateType: S
    Message: str = ""
    Details: dict[str, str] = Field(default_factory=dict)

    @field_validator("Details", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value
