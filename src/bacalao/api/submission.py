"""Turning a `PUT /jobs` body into a job the backend accepts, without I/O.

The steps follow Bacalhau's submit handler: parse `{"Job": ...}` (a fault
is a 400 naming the field, e.g. `Job.Tasks.0.Engine.Params.Image: Field
required`), check the job (`bacalao.validation.check_job`), then
sanitize — reset what a submitter may not set and say so in warnings —
and record the client's installation and instance IDs from the request
headers in the job's Meta.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..models.api import PutJobRequest
from ..models.job import META_RESERVED_PREFIX, Job
from ..models.states import JobStateType
from ..models.states import State as JobState
from ..validation import InvalidSpec, check_job, problems_of
from .errors import InvalidSubmission
from .spec_bounds import check_depth, unknown_fields

CLIENT_META = {
    "x-bacalhau-installationid": "bacalhau.org/client.installation.id",
    "x-bacalhau-instanceid": "bacalhau.org/client.instance.id",
}
BODY_HINT = 'the body is {"Job": {...}} with the job spec inside'


def parse_put_job(body: dict[str, Any]) -> PutJobRequest:
    """The request in `body`; `InvalidSubmission` names each field at fault
    (`bacalao.validation`: the same check the orchestrator and CLI run)."""
    try:
        request = PutJobRequest.model_validate(body)
        check_job(request.Job)
    except ValidationError as exc:
        hint = BODY_HINT if not any(k.lower() == "job" for k in body) else ""
        raise InvalidSubmission(str(InvalidSpec(problems_of(exc))), hint=hint) from exc
    except InvalidSpec as exc:
        raise InvalidSubmission(str(exc)) from exc
    return request


def sanitize(job: Job) -> tuple[Job, list[str]]:
    """`job` without the fields a submitter may not set, and a warning for each."""
    warnings: list[str] = []
    changes: dict[str, Any] = {}
    if job.State.StateType != JobStateType.Undefined:
        warnings.append("job state is ignored when submitting a job")
        changes["State"] = JobState[JobStateType](StateType=JobStateType.Undefined)
    for name, label in (
        ("Revision", "revision"),
        ("Version", "version"),
        ("CreateTime", "create time"),
        ("ModifyTime", "modify time"),
    ):
        if getattr(job, name):
            warnings.append(f"job {label} is ignored when submitting a job")
            changes[name] = 0
    if job.ID and job.Type in ("batch", "ops"):
        warnings.append("job ID is ignored when submitting a batch job")
        changes["ID"] = ""
    if len(job.Tasks) > 1:
        warnings.append("only one task is supported per job")
        changes["Tasks"] = job.Tasks[:1]
    reserved = [key for key in job.Meta if key.startswith(META_RESERVED_PREFIX)]
    for key in reserved:
        warnings.append(
            f"job meta key {json.dumps(key)} is reserved and will be ignored"
        )
    if reserved:
        changes["Meta"] = {k: v for k, v in job.Meta.items() if k not in reserved}
    return job.model_copy(update=changes), warnings


def add_client_meta(job: Job, headers: Mapping[str, str]) -> Job:
    """`job` with the client's installation/instance IDs from its headers."""
    extra = {key: headers[h] for h, key in CLIENT_META.items() if headers.get(h)}
    if not extra:
        return job
    return job.model_copy(update={"Meta": {**job.Meta, **extra}})


@dataclass(frozen=True)
class Submission:
    """A parsed submission: the job for the backend, the warnings for the
    response, and `Force` (make a new version even if nothing changed)."""

    job: Job
    warnings: list[str]
    force: bool = False


def prepare_submission(body: dict[str, Any], headers: Mapping[str, str]) -> Submission:
    """The job to hand the backend, the warnings for the response, Force."""
    check_depth(body)
    request = parse_put_job(body)
    job, warnings = sanitize(request.Job)
    check_encodable(job)
    return Submission(
        add_client_meta(job, headers), unknown_fields(body) + warnings, request.Force
    )


def check_encodable(job: Job) -> None:
    """A job that cannot be written back as JSON is refused (400), never
    stored: it would fail every write it is part of."""
    try:
        job.model_dump_json()
    except (ValueError, TypeError, RecursionError) as exc:
        message = str(InvalidSpec.one(("Job",), f"cannot be encoded: {exc}"))
        raise InvalidSubmission(message) from None


__all__ = [
    "Submission",
    "add_client_meta",
    "parse_put_job",
    "prepare_submission",
    "sanitize",
]
