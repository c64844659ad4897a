"""Routes for job versions: list them, diff a spec, rerun a version.

    GET /api/v1/orchestrator/jobs/{id}/versions   every version, oldest first
    PUT /api/v1/orchestrator/jobs/diff            stored job vs a submitted spec
    PUT /api/v1/orchestrator/jobs/{id}/rerun      a version run again as a new one

Submitting a spec under an existing name (`PUT /jobs`, with `Force` to
repeat an unchanged spec) is what makes a new version; see `jobs.py`.
Request and response fields are Bacalhau's.
"""

from __future__ import annotations

from functools import partial

from pydantic import ValidationError

from ..models.api import (
    DiffJobRequest,
    DiffJobResponse,
    ListJobVersionsResponse,
    RerunJobRequest,
    RerunJobResponse,
)
from .backend import Backend
from .errors import BadRequest, validation_message
from .http import Request, Response, json_response
from .jobs import JOBS
from .lookup import resolve_job
from .router import Doc, Route, route
from .spec_bounds import check_size
from .submission import prepare_submission


async def versions(backend: Backend, request: Request) -> Response:
    job_id = await resolve_job(
        backend, request.params["id"], request.query.text("namespace")
    )
    items = await backend.job_versions(job_id)
    return json_response(ListJobVersionsResponse(Items=items))


async def diff(backend: Backend, request: Request) -> Response:
    check_size(request.body)
    parsed = prepare_submission(request.json_object(), request.headers)
    text = await backend.diff_job(parsed.job)
    return json_response(DiffJobResponse(Diff=text, Warnings=parsed.warnings))


async def rerun(backend: Backend, request: Request) -> Response:
    body = request.json_object() if request.body else {}
    try:
        asked = RerunJobRequest.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(f"invalid rerun request: {validation_message(exc)}") from exc
    job_id = await resolve_job(backend, request.params["id"], asked.Namespace)
    done = await backend.rerun_job(job_id, asked.JobVersion, asked.Reason)
    return json_response(
        RerunJobResponse(
            EvaluationID=done.evaluation_id, JobID=done.job_id, JobVersion=done.version
        )
    )


def version_routes(backend: Backend) -> list[Route]:
    one = f"{JOBS}/{{id}}"
    return [
        route(
            "GET",
            f"{one}/versions",
            partial(versions, backend),
            Doc(
                "Every version of a job, oldest first",
                query=("namespace",),
                response=ListJobVersionsResponse,
            ),
        ),
        route(
            "PUT",
            f"{JOBS}/diff",
            partial(diff, backend),
            Doc(
                "The diff from the stored job of the spec's Name to the spec",
                body=DiffJobRequest,
                response=DiffJobResponse,
            ),
        ),
        route(
            "PUT",
            f"{one}/rerun",
            partial(rerun, backend),
            Doc(
                "Run a version of a job (JobVersion 0: the latest) as its next one",
                body=RerunJobRequest,
                response=RerunJobResponse,
                errors=(400, 404, 409),
            ),
        ),
    ]


__all__ = ["version_routes"]
