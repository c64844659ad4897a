"""One check of a job spec, the same wherever it runs.

    validate_job(data)   the `Job` in plain data, or `InvalidSpec`
    check_job(job)       what the models alone cannot say: engine params for
                         the engine type, Count, publisher and input source
                         types and params, absolute paths, resource amounts

The API checks a submission with it, the orchestrator checks each job it
stores with it, and the CLI checks a spec offline with it before sending
(and for `--dry-run`), so a fault reads the same everywhere: the dotted
field and the reason, e.g. `Job.Tasks.0.Engine.Params.Image: Field
required`. Pure: no I/O, nothing but the models and the plugin registries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .models.engines import UnknownEngine, engine_params
from .models.job import InputSource, Job, SpecConfig, Task
from .models.resources import Resources
from .publishers import registry as publishers
from .storage import registry as sources

ROOT = "Job"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecProblem:
    """One field at fault (`loc`, from the job down) and why."""

    loc: Loc
    reason: str

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.loc)

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.loc else self.reason


class InvalidSpec(ValueError):
    """Raised when a job spec cannot run as written; names each field at fault."""

    def __init__(self, problems: Iterable[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__("invalid job spec: " + "\n".join(map(str, self.problems)))

    @classmethod
    def one(cls, loc: Loc, reason: str) -> InvalidSpec:
        return cls([SpecProblem(loc, reason)])


def problems_of(exc: ValidationError, at: Loc = ()) -> list[SpecProblem]:
    """pydantic's errors as problems, their locations under `at`."""
    return [
        SpecProblem((*at, *error["loc"]), error["msg"].removeprefix("Value error, "))
        for error in exc.errors()
    ]


def validate_job(data: Any) -> Job:
    """The job `data` describes (a spec as plain data, Bacalhau's shape)."""
    try:
        job = Job.model_validate(data)
    except ValidationError as exc:
        raise InvalidSpec(problems_of(exc, (ROOT,))) from None
    check_job(job)
    return job


def check_job(job: Job) -> None:
    """`InvalidSpec` for a job no node could ever run as written."""
    if job.Type in ("batch", "service") and job.Count < 1:
        raise InvalidSpec.one(
            (ROOT, "Count"), f"must be at least 1 for {job.Type} jobs"
        )
    for index, task in enumerate(job.Tasks):
        _check_task(task, (ROOT, "Tasks", index))


def _check_task(task: Task, at: Loc) -> None:
    try:
        engine_params(task.Engine)
    except UnknownEngine as exc:
        raise InvalidSpec.one((*at, "Engine", "Type"), str(exc)) from None
    except ValidationError as exc:
        raise InvalidSpec(problems_of(exc, (*at, "Engine", "Params"))) from None
    _check_publisher(task.Publisher, (*at, "Publisher"))
    for i, source in enumerate(task.InputSources):
        _check_input(source, (*at, "InputSources", i))
    for i, result in enumerate(task.ResultPaths):
        if not result.Path.startswith("/"):
            raise InvalidSpec.one(
                (*at, "ResultPaths", i, "Path"), "must be an absolute path"
            )
    try:
        task.Resources.parsed(Resources())
    except ValueError as exc:
        raise InvalidSpec.one((*at, "Resources"), str(exc)) from None


def _check_publisher(publisher: SpecConfig, at: Loc) -> None:
    if publisher.is_empty:
        return
    if publisher.Type not in publishers.names():
        known = ", ".join(publishers.names())
        raise InvalidSpec.one(
            (*at, "Type"), f"unknown publisher {publisher.Type!r} (one of {known})"
        )
    problem = publishers.load(publisher.Type).check_params(publisher.Params)
    if problem is not None:
        raise InvalidSpec.one((*at, "Params", problem.param), problem.message)


def _check_input(source: InputSource, at: Loc) -> None:
    kind = source.Source.Type
    if kind not in sources.names():
        known = ", ".join(sources.names())
        raise InvalidSpec.one(
            (*at, "Source", "Type"), f"unknown input source {kind!r} (one of {known})"
        )
    if not source.Target.startswith("/"):
        raise InvalidSpec.one(
            (*at, "Target"), "must be an absolute path inside the task"
        )
    problem = sources.load(kind).check_params(source.Source.Params)
    if problem is not None:
        raise InvalidSpec.one((*at, "Source", "Params", problem.param), problem.message)


__all__ = [
    "InvalidSpec",
    "SpecProblem",
    "check_job",
    "problems_of",
    "validate_job",
]
