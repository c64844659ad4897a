"""Routes under `/api/v1/orchestrator/jobs`: submit, list, get, stop, history.

A job is addressed by its full ID, any unique prefix of it, or its name
(`lookup.resolve_job`: 404 if none, 400 naming the candidates if several).
Lists page with
Bacalhau's `next_token`; filters and ordering are done here when the
backend hands over a whole list (executions, history).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from functools import partial

from pydantic import ValidationError

from ..models.api import (
    GetJobResponse,
    ListJobExecutionsResponse,
    ListJobHistoryResponse,
    ListJobResultsResponse,
    ListJobsResponse,
    PutJobRequest,
    PutJobResponse,
    StopJobRequest,
    StopJobResponse,
)
from ..models.execution import Execution
from ..models.history import JobHistory, JobHistoryType
from ..models.job import Job
from ..models.selectors import matches
from .backend import Backend
from .errors import BadRequest, validation_message
from .http import Request, Response, json_response
from .lookup import resolve_job
from .paging import page_from_query
from .query import INT64_MAX, Query
from .router import Doc, Route, route
from .spec_bounds import check_size
from .submission import prepare_submission

JOBS = "/api/v1/orchestrator/jobs"
HISTORY_PAGE = 100

# API `order_by` -> the key the backend's job list sorts by.
JOB_ORDER = {
    "": "create_time",
    "created_at": "create_time",
    "create_time": "create_time",
    "modified_at": "modify_time",
    "modify_time": "modify_time",
    "id": "id",
    "state": "state",
}
EXECUTION_ORDER: dict[str, Callable[[Execution], object]] = {
    "": lambda e: e.CreateTime,
    "created_at": lambda e: e.CreateTime,
    "create_time": lambda e: e.CreateTime,
    "modified_at": lambda e: e.ModifyTime,
    "modify_time": lambda e: e.ModifyTime,
    "id": lambda e: e.ID,
}


def _order(order_by: str, known: Collection[str]) -> str:
    if order_by not in known:
        options = ", ".join(repr(k) for k in known if k)
        raise BadRequest(
            f"invalid value for query parameter 'order_by': {order_by!r} "
            f"(one of {options})"
        )
    return order_by


async def put_job(backend: Backend, request: Request) -> Response:
    check_size(request.body)
    parsed = prepare_submission(request.json_object(), request.headers)
    warnings = parsed.warnings
    submitted = await backend.submit_job(
        parsed.job, warnings=warnings, force=parsed.force
    )
    merged = warnings + [w for w in submitted.warnings if w not in warnings]
    return json_response(
        PutJobResponse(
            JobID=submitted.job_id,
            EvaluationID=submitted.evaluation_id,
            Warnings=merged,
        )
    )


async def list_jobs(backend: Backend, request: Request) -> Response:
    query = request.query
    namespace = query.text("namespace")
    page = page_from_query(query)
    order_by = JOB_ORDER[_order(page.order_by, JOB_ORDER)]
    selector = query.selector("labels")
    where: Callable[[Job], bool] | None = None
    if selector:
        where = lambda job: matches(selector, job.Labels)  # noqa: E731
    jobs, more = await backend.list_jobs(
        namespace=None if namespace in ("", "*") else namespace,
        order_by=order_by,
        reverse=page.reverse,
        where=where,
        offset=page.offset,
        limit=page.size,
    )
    token = page.next_token(len(jobs)) if more else ""
    return json_response(ListJobsResponse(NextToken=token, Items=jobs))


async def _job_id(backend: Backend, request: Request) -> str:
    return await resolve_job(
        backend, request.params["id"], request.query.text("namespace")
    )


def _includes(query: Query) -> set[str]:
    words = ",".join(query.all("include")).split(",")
    return {w.strip().lower() for w in words if w.strip()}


async def get_job(backend: Backend, request: Request) -> Response:
    query = request.query
    query.integer("job_version", maximum=INT64_MAX)
    query.integer("limit")
    job_id = await _job_id(backend, request)
    include = _includes(query)
    response = GetJobResponse(Job=await backend.get_job(job_id))
    if "history" in include:
        response.History = ListJobHistoryResponse(
            Items=await backend.job_history(job_id)
        )
    if "executions" in include:
        items = await backend.job_executions(job_id)
        response.Executions = ListJobExecutionsResponse(Items=items)
    return json_response(response)


async def stop_job(backend: Backend, request: Request) -> Response:
    try:
        body = StopJobRequest.model_validate(request.json_object())
    except ValidationError as exc:
        raise BadRequest(f"invalid stop request: {validation_message(exc)}") from exc
    reason = body.Reason or request.query.text("reason")
    job_id = await _job_id(backend, request)
    evaluation = await backend.stop_job(job_id, reason)
    return json_response(StopJobResponse(EvaluationID=evaluation))


async def executions(backend: Backend, request: Request) -> Response:
    query = request.query
    page = page_from_query(query)
    key = EXECUTION_ORDER[_order(page.order_by, EXECUTION_ORDER)]
    version = query.integer("job_version", maximum=INT64_MAX)
    query.boolean("all_job_versions")
    job_id = await _job_id(backend, request)
    items = await backend.job_executions(job_id)
    if version:
        items = [e for e in items if e.JobVersion == version]
    items.sort(key=key, reverse=page.reverse)  # type: ignore[arg-type]
    chosen, token = page.slice(items)
    return json_response(ListJobExecutionsResponse(NextToken=token, Items=chosen))


def history_filter(query: Query) -> Callable[[JobHistory], bool]:
    """The history items a request asks for, by its filter params."""
    since = query.integer("since", maximum=INT64_MAX)
    kind = query.choice("event_type", ("all", "job", "execution", ""), "all")
    execution_id = query.text("execution_id")
    node_id = query.text("node_id")
    version = query.integer("job_version", maximum=INT64_MAX)
    query.boolean("all_job_versions")
    wanted = {
        "job": {JobHistoryType.JobLevel},
        "execution": {JobHistoryType.ExecutionLevel},
    }.get(kind)

    def keep(item: JobHistory) -> bool:
        return (
            (wanted is None or item.Type in wanted)
            and item.ExecutionID.startswith(execution_id)
            and item.NodeID.startswith(node_id)
            and (not since or item.Time.timestamp() >= since)
            and (not version or item.JobVersion == version)
        )

    return keep


async def history(backend: Backend, request: Request) -> Response:
    query = request.query
    keep = history_filter(query)
    page = page_from_query(query, default_limit=HISTORY_PAGE)
    if page.limit == 0:
        page = replace(page, limit=HISTORY_PAGE)
    job_id = await _job_id(backend, request)
    items = [item for item in await backend.job_history(job_id) if keep(item)]
    chosen, token = page.slice(items)
    if not token and not (await backend.get_job(job_id)).State.StateType.terminal:
        token = page.next_token(len(chosen))  # more may come: let callers poll
    return json_response(ListJobHistoryResponse(NextToken=token, Items=chosen))


async def results(backend: Backend, request: Request) -> Response:
    job_id = await _job_id(backend, request)
    published = [
        await backend.downloadable(e.PublishedResult, e.NodeID)
        for e in await backend.job_executions(job_id)
        if not e.PublishedResult.is_empty
    ]
    return json_response(ListJobResultsResponse(Items=published))


_PAGING = ("limit", "next_token", "order_by", "reverse")
_VERSIONS = ("job_version", "all_job_versions")


def job_routes(backend: Backend) -> list[Route]:
    one = f"{JOBS}/{{id}}"
    return [
        route(
            ("PUT", "POST"),
            JOBS,
            partial(put_job, backend),
            Doc("Submit a job", body=PutJobRequest, response=PutJobResponse),
        ),
        route(
            "GET",
            JOBS,
            partial(list_jobs, backend),
            Doc(
                "List jobs; order_by: created_at (default), modified_at, id, state",
                query=("namespace", *_PAGING, "labels"),
                response=ListJobsResponse,
                errors=(400,),
            ),
        ),
        route(
            "GET",
            one,
            partial(get_job, backend),
            Doc(
                "A job by ID, ID prefix or name",
                query=("namespace", "include", "job_version", "limit"),
                response=GetJobResponse,
            ),
        ),
        route(
            "DELETE",
            one,
            partial(stop_job, backend),
            Doc(
                "Stop a job (reason in the body, or the `reason` query parameter)",
                query=("namespace", "reason"),
                body=StopJobRequest,
                response=StopJobResponse,
                errors=(400, 404, 409),
            ),
        ),
        route(
            "GET",
            f"{one}/executions",
            partial(executions, backend),
            Doc(
                "A job's executions; order_by: created_at (default), modified_at, id",
                query=("namespace", *_PAGING, *_VERSIONS),
                response=ListJobExecutionsResponse,
            ),
        ),
        route(
            "GET",
            f"{one}/history",
            partial(history, backend),
            Doc(
                "A job's history; NextToken stays set while the job may add more",
                query=(
                    "namespace",
                    "since",
                    "event_type",
                    "execution_id",
                    "node_id",
                    "limit",
                    "next_token",
                    *_VERSIONS,
                ),
                response=ListJobHistoryResponse,
            ),
        ),
        route(
            "GET",
            f"{one}/results",
            partial(results, backend),
            Doc(
                "Where a job's results were published",
                query=("namespace",),
                response=ListJobResultsResponse,
            ),
        ),
    ]


__all__ = ["job_routes"]
