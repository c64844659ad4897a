"""The job spec: Job, Task and the pieces they are made of.

Field names and JSON shapes are those of Bacalhau's v1 `models.Job`, so its
YAML specs and clients work unchanged. `Job.normalized()` fills defaults the
way Bacalhau's server does; validation errors name the field at fault.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import WireModel
from .resources import ResourcesConfig
from .states import JobStateType
from .states import State as _State

JobType = Literal["batch", "ops", "daemon", "service"]
JOB_TYPES: tuple[str, ...] = ("batch", "ops", "daemon", "service")
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_NAME = "main"
META_RESERVED_PREFIX = ("bacalhau.org/", "bacalao.org/")
META_JOB_NONCE = "bacalao.org/job.nonce"  # see ids.bound_job_id

NETWORK_TYPES = ("Default", "None", "Host", "Full", "HTTP", "Bridge")
SELECTOR_OPERATORS = ("=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt")


def _empty_if_none(value: Any, empty: Any) -> Any:
    return empty if value is None else value


class SpecConfig(WireModel):
    """A typed plugin configuration: engine, publisher or storage source."""

    Type: str = ""
    Params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("Type", mode="before")
    @classmethod
    def _type_is_text(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("Params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        return _empty_if_none(value, {})

    @property
    def is_empty(self) -> bool:
        return not self.Type


class InputSource(WireModel):
    """Data staged into the task: where it comes from and where it lands."""

    Source: SpecConfig
    Alias: str = ""
    Target: str = ""


class ResultPath(WireModel):
    """A named folder of the task's filesystem that becomes part of its result."""

    Name: str = Field(min_length=1)
    Path: str = Field(min_length=1)


class NetworkConfig(WireModel):
    """What network a task may use. `Type` is a name from NETWORK_TYPES."""

    Type: str = "Default"
    Domains: list[str] = Field(default_factory=list)

    @field_validator("Type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        if value is None or value == "":
            return "Default"
        if isinstance(value, int) and 0 <= value < len(NETWORK_TYPES):
            return NETWORK_TYPES[value]
        for name in NETWORK_TYPES:
            if isinstance(value, str) and value.strip().lower() == name.lower():
                return name
        raise ValueError(
            f"unknown network type {value!r} (one of {', '.join(NETWORK_TYPES)})"
        )

    @field_validator("Domains", mode="before")
    @classmethod
    def _domains(cls, value: Any) -> Any:
        return _empty_if_none(value, [])


MAX_TIMEOUT = 10 * 365 * 24 * 3600  # ten years, in seconds
MAX_COUNT = 1000  # executions of one batch or service job at a time
MAX_PRIORITY = 2**31 - 1


class TimeoutConfig(WireModel):
    """Timeouts in seconds; 0 means the node's default."""

    ExecutionTimeout: int = Field(0, ge=0, le=MAX_TIMEOUT)
    QueueTimeout: int = Field(0, ge=0, le=MAX_TIMEOUT)
    TotalTimeout: int = Field(0, ge=0, le=MAX_TIMEOUT)


class LabelSelectorRequirement(WireModel):
    """A constraint on node labels, e.g. `region in (eu, us)`."""

    Key: str = Field(min_length=1)
    Operator: str
    Values: list[str] = Field(default_factory=list)

    @field_validator("Operator")
    @classmethod
    def _known_operator(cls, value: str) -> str:
        if value not in SELECTOR_OPERATORS:
            raise ValueError(
                f"unknown operator {value!r} (one of {' '.join(SELECTOR_OPERATORS)})"
            )
        return value

    @field_validator("Values", mode="before")
    @classmethod
    def _values(cls, value: Any) -> Any:
        return _empty_if_none(value, [])


class Task(WireModel):
    """The one unit of work of a job: an engine and what it reads and writes."""

    Name: str = DEFAULT_TASK_NAME
    Engine: SpecConfig
    Publisher: SpecConfig = Field(default_factory=SpecConfig)
    Env: dict[str, str] = Field(default_factory=dict)
    Meta: dict[str, str] = Field(default_factory=dict)
    InputSources: list[InputSource] = Field(default_factory=list)
    ResultPaths: list[ResultPath] = Field(default_factory=list)
    Resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    Network: NetworkConfig = Field(default_factory=NetworkConfig)
    Timeouts: TimeoutConfig = Field(default_factory=TimeoutConfig)

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @field_validator("Name")
    @classmethod
    def _name(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("task name cannot contain null characters")
        return value or DEFAULT_TASK_NAME

    @field_validator("Engine")
    @classmethod
    def _engine_named(cls, value: SpecConfig) -> SpecConfig:
        if value.is_empty:
            raise ValueError("engine type is required (e.g. docker or wasm)")
        return value

    @model_validator(mode="after")
    def _unique_targets(self) -> Task:
        aliases = [i.Alias for i in self.InputSources if i.Alias]
        targets = [i.Target for i in self.InputSources if i.Target]
        for kind, values in (("alias", aliases), ("target", targets)):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"input source {kind} {dupes[0]!r} is used twice")
        names = [r.Name for r in self.ResultPaths]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"result path name {dupes[0]!r} is used twice")
        return self


class Job(WireModel):
    """A job as submitted, stored and returned by the API."""

    ID: str = ""
    Name: str = ""
    Namespace: str = DEFAULT_NAMESPACE
    Type: str = "batch"
    Priority: int = Field(0, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    Count: int = Field(1, ge=0, le=MAX_COUNT)
    Constraints: list[LabelSelectorRequirement] = Field(default_factory=list)
    Meta: dict[str, str] = Field(default_factory=dict)
    Labels: dict[str, str] = Field(default_factory=dict)
    Tasks: list[Task] = Field(min_length=1)
    State: _State[JobStateType] = Field(
        default_factory=lambda: _State[JobStateType](StateType=JobStateType.Undefined)
    )
    Version: int = 0
    Revision: int = 0
    CreateTime: int = 0
    ModifyTime: int = 0

    @model_validator(mode="before")
    @classmethod
    def _nulls_are_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @field_validator("Type", mode="before")
    @classmethod
    def _known_type(cls, value: Any) -> Any:
        if value in ("", None):
            return "batch"
        if value not in JOB_TYPES:
            raise ValueError(
                f"unknown job type {value!r} (one of {', '.join(JOB_TYPES)})"
            )
        return value

    @field_validator("ID", "Name", "Namespace")
    @classmethod
    def _printable(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("must not contain a null character")
        return value

    @model_validator(mode="after")
    def _count_fits_type(self) -> Job:
        if self.Type in ("daemon", "ops") and self.Count > 1:
            raise ValueError(
                f"{self.Type} jobs run on every matching node: Count must be 0 or 1"
            )
        return self

    @property
    def task(self) -> Task:
        return self.Tasks[0]

    @property
    def runs_everywhere(self) -> bool:
        """Daemon and ops jobs run on every matching node, not on Count nodes."""
        return self.Type in ("daemon", "ops")

    @property
    def long_running(self) -> bool:
        return self.Type in ("daemon", "service")
