"""The client's wire helpers: query strings, path segments, parsing answers
and turning error answers into `client_errors`. Standard library only;
pydantic is imported when a body is parsed.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, urlencode

from .errors import ApiError, ClientError, NotFound, ResponseError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..models.api import GetJobResponse
    from ..models.job import Job

    M = TypeVar("M", bound=BaseModel)

Query = Mapping[str, str | int | bool | Iterable[str] | None]


def int_header(response: http.client.HTTPResponse, name: str) -> int | None:
    value = response.getheader(name)
    return int(value) if value and value.isdigit() else None


def seg(value: str) -> str:
    return quote(value, safe="")


def query_string(query: Query) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in query.items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, int | str):
            pairs.append((name, str(value)))
        else:
            pairs.extend((name, str(v)) for v in value)
    return "?" + urlencode(pairs) if pairs else ""


def parse(data: bytes, model: type[M], what: str) -> M:
    from pydantic import ValidationError

    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ResponseError(
            f"unexpected answer to {what}: {where}: {first['msg']}"
            if where
            else f"unexpected answer to {what}: {first['msg']}"
        ) from exc


def api_error(status: int, data: bytes, what: str) -> ClientError:
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("Message"), str):
        text = data.decode("utf-8", "replace").strip()[:200]
        message = f"{what} failed with HTTP {status}" + (f": {text}" if text else "")
        return (NotFound if status == 404 else ApiError)(message, status=status)
    kind = NotFound if status == 404 else ApiError
    details = body.get("Details")
    return kind(
        body["Message"],
        status=status,
        code=str(body.get("Code") or ""),
        hint=str(body.get("Hint") or ""),
        component=str(body.get("Component") or ""),
        details=details if isinstance(details, dict) else None,
        request_id=str(body.get("RequestID") or ""),
    )


def job_progress(response: GetJobResponse) -> tuple[object, ...]:
    state = response.Job.State
    executions = response.Executions.Items if response.Executions else []
    return (
        state.StateType,
        state.Message,
        tuple((e.ID, e.ComputeState.StateType) for e in executions),
    )


def job_done(job: Job) -> bool:
    state = job.State.StateType
    return state.terminal or (job.long_running and state.name == "Running")


__all__ = [
    "Query",
    "api_error",
    "int_header",
    "job_done",
    "job_progress",
    "parse",
    "query_string",
    "seg",
]
