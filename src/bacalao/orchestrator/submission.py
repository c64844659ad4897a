"""Turning a submitted job into a stored one: checks, defaults and IDs.

Pure functions: `prepare_job` takes what a user sent and returns the job
as it will be stored (ID, name, defaults, state Pending), or raises
`InvalidJob` naming the field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from ..models.engines import UnknownEngine, engine_params
from ..models.ids import new_bound_job_id
from ..models.job import META_JOB_NONCE, InputSource, Job, SpecConfig
from ..models.resources import Resources
from ..models.states import JobStateType, State
from ..publishers import registry as publishers
from ..storage import registry as sources
from .exceptions import InvalidJob

LEGACY_WASM_TARGET = "/wasm/entry.wasm"
META_ORCHESTRATOR = ("bacalhau.org/orchestrator.id", "bacalhau.org/requester.id")


@dataclass(frozen=True)
class JobDefaults:
    cpu: str = "500m"
    memory: str = "512Mb"
    publisher: str = ""  # for a job that names none


def prepare_job(job: Job, *, node_id: str, now_ns: int, defaults: JobDefaults) -> Job:
    """The stored form of a submitted job; `InvalidJob` if it cannot run."""
    job = job.model_copy(deep=True)
    task = job.task
    _move_legacy_wasm_module(job)
    check_job(job)
    if job.runs_everywhere:
        job.Count = 0
    if not task.Resources.CPU:
        task.Resources.CPU = defaults.cpu
    if not task.Resources.Memory:
        task.Resources.Memory = defaults.memory
    if task.Publisher.is_empty and defaults.publisher:
        task.Publisher = SpecConfig(Type=defaults.publisher)
    job.ID, job.Meta[META_JOB_NONCE] = new_bound_job_id(node_id)
    job.Name = job.Name or job.ID
    job.Namespace = job.Namespace or "default"
    for key in META_ORCHESTRATOR:
        job.Meta[key] = node_id
    job.State = State[JobStateType](StateType=JobStateType.Pending)
    job.Version = 1
    job.Revision = 1
    job.CreateTime = job.ModifyTime = now_ns
    return job


def check_job(job: Job) -> None:
    """Raise `InvalidJob` for a job no node could ever run as written."""
    task = job.task
    if job.Type in ("batch", "service") and job.Count < 1:
        raise InvalidJob("Job.Count", f"must be at least 1 for {job.Type} jobs")
    try:
        engine_params(task.Engine)
    except UnknownEngine as exc:
        raise InvalidJob("Job.Tasks.0.Engine.Type", str(exc)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        field = "Job.Tasks.0.Engine.Params" + (f".{where}" if where else "")
        raise InvalidJob(field, err["msg"]) from None
    _check_publisher(task.Publisher)
    for i, source in enumerate(task.InputSources):
        _check_input(i, source)
    for i, result in enumerate(task.ResultPaths):
        if not result.Path.startswith("/"):
            raise InvalidJob(
                f"Job.Tasks.0.ResultPaths.{i}.Path", "must be an absolute path"
            )
    try:
        task.Resources.parsed(Resources())
    except ValueError as exc:
        raise InvalidJob("Job.Tasks.0.Resources", str(exc)) from None


def _check_publisher(publisher: SpecConfig) -> None:
    where = "Job.Tasks.0.Publisher"
    if publisher.is_empty:
        return
    if publisher.Type not in publishers.names():
        known = ", ".join(publishers.names())
        raise InvalidJob(
            f"{where}.Type",
            f"unknown publisher {publisher.Type!r} (one of {known})",
        )
    problem = publishers.load(publisher.Type).check_params(publisher.Params)
    if problem is not None:
        raise InvalidJob(f"{where}.Params.{problem.param}", problem.message)


def _check_input(i: int, source: InputSource) -> None:
    where = f"Job.Tasks.0.InputSources.{i}"
    if source.Source.Type not in sources.names():
        known = ", ".join(sources.names())
        raise InvalidJob(
            f"{where}.Source.Type",
            f"unknown input source {source.Source.Type!r} (one of {known})",
        )
    if not source.Target.startswith("/"):
        raise InvalidJob(f"{where}.Target", "must be an absolute path inside the task")
    problem = sources.load(source.Source.Type).check_params(source.Source.Params)
    if problem is not None:
        raise InvalidJob(f"{where}.Source.Params.{problem.param}", problem.message)


def _move_legacy_wasm_module(job: Job) -> None:
    """Older wasm specs carry the module as an InputSource in EntryModule."""
    engine = job.task.Engine
    if engine.Type.lower() != "wasm":
        return
    params = {k.lower(): (k, v) for k, v in engine.Params.items()}
    entry = params.get("entrymodule")
    if entry is None or not isinstance(entry[1], dict):
        return
    try:
        source = InputSource.model_validate(entry[1])
    except ValidationError as exc:
        raise InvalidJob("Job.Tasks.0.Engine.Params.EntryModule", str(exc)) from None
    target = source.Target or LEGACY_WASM_TARGET
    job.task.InputSources.append(source.model_copy(update={"Target": target}))
    new_params = dict(engine.Params)
    new_params[entry[0]] = target
    job.task.Engine = SpecConfig(Type=engine.Type, Params=new_params)
