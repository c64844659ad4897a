"""Turning a submitted job into a stored one: checks, defaults and IDs.

Pure functions: `prepare_job` takes what a user sent and returns the job
as it will be stored (ID, name, defaults, state Pending), or raises
`InvalidJob` naming the field at fault (the checks are
`bacalao.validation`'s, shared with the API and the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from .. import validation
from ..models.ids import new_bound_job_id
from ..models.job import META_JOB_NONCE, InputSource, Job, SpecConfig
from ..models.states import JobStateType, State
from ..validation import InvalidSpec
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
    """Raise `InvalidJob` for a job no node could ever run as written (the
    one check of `bacalao.validation`, as the API and the CLI run it)."""
    try:
        validation.check_job(job)
    except InvalidSpec as exc:
        first = exc.problems[0]
        raise InvalidJob(first.field, first.reason) from None


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
