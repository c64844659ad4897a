"""A typed, synchronous client of the v1 REST API (Bacalhau's paths and JSON).

    from bacalao.client import Client

    client = Client("127.0.0.1", 1234)
    submitted = client.submit(job)                 # a Job, or a spec as a dict
    final = client.wait(submitted.JobID, timeout=60)
    print(final.Job.State.StateType.name)

It uses only the standard library (`http.client`) and `bacalao.models`,
which it imports on first use so that `import bacalao.client` stays cheap.
Errors are those of `bacalao.client_errors`. A `Client` opens one
connection per request, so it is safe to share between threads.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from .client_errors import (
    ApiError,
    ClientError,
    ConnectError,
    NotFound,
    ResponseError,
    WaitTimeout,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .models.api import (
        GetJobResponse,
        GetNodeResponse,
        IsAliveResponse,
        ListJobExecutionsResponse,
        ListJobHistoryResponse,
        ListJobResultsResponse,
        ListJobsResponse,
        ListNodesResponse,
        PutJobResponse,
        StopJobResponse,
    )
    from .models.job import Job
    from .models.node import BuildVersionInfo, NodeInfo

    M = TypeVar("M", bound=BaseModel)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1234
JOBS = "/api/v1/orchestrator/jobs"
NODES = "/api/v1/orchestrator/nodes"
USER_AGENT = "bacalao-client"

Query = Mapping[str, str | int | bool | Iterable[str] | None]


class Client:
    """Talks to one node's HTTP API; every method is one request (or a poll)."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.headers = dict(headers or {})

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- agent -------------------------------------------------------------

    def alive(self) -> IsAliveResponse:
        from .models.api import IsAliveResponse

        return self._get("/api/v1/agent/alive", IsAliveResponse)

    def version(self) -> BuildVersionInfo:
        from .models.node import BuildVersionInfo

        return self._get("/api/v1/agent/version", BuildVersionInfo)

    def agent_node(self) -> NodeInfo:
        from .models.node import NodeInfo

        return self._get("/api/v1/agent/node", NodeInfo)

    # -- jobs --------------------------------------------------------------

    def submit(
        self, job: Job | Mapping[str, Any], *, force: bool = False
    ) -> PutJobResponse:
        """Submit a job (a `Job`, or a spec as plain data in Bacalhau's shape)."""
        from .models.api import PutJobResponse

        spec = job if isinstance(job, Mapping) else job.model_dump(mode="json")
        raw = self.request("PUT", JOBS, body={"Job": spec, "Force": force})
        return _parse(raw, PutJobResponse, JOBS)

    def get_job(self, job_id: str, *, include: Iterable[str] = ()) -> GetJobResponse:
        """A job by ID or unique ID prefix; `include` may hold history, executions."""
        from .models.api import GetJobResponse

        query = {"include": ",".join(include) or None}
        return self._get(f"{JOBS}/{_seg(job_id)}", GetJobResponse, query)

    def list_jobs(
        self,
        *,
        namespace: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
        order_by: str | None = None,
        reverse: bool = False,
        labels: str | Iterable[str] | None = None,
    ) -> ListJobsResponse:
        from .models.api import ListJobsResponse

        query = {
            "namespace": namespace,
            "limit": limit,
            "next_token": next_token,
            "order_by": order_by,
            "reverse": reverse or None,
            "labels": labels,
        }
        return self._get(JOBS, ListJobsResponse, query)

    def executions(
        self,
        job_id: str,
        *,
        limit: int | None = None,
        next_token: str | None = None,
        order_by: str | None = None,
        reverse: bool = False,
    ) -> ListJobExecutionsResponse:
        from .models.api import ListJobExecutionsResponse

        query = {
            "limit": limit,
            "next_token": next_token,
            "order_by": order_by,
            "reverse": reverse or None,
        }
        path = f"{JOBS}/{_seg(job_id)}/executions"
        return self._get(path, ListJobExecutionsResponse, query)

    def history(
        self,
        job_id: str,
        *,
        since: int | None = None,
        event_type: str | None = None,
        execution_id: str | None = None,
        node_id: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> ListJobHistoryResponse:
        from .models.api import ListJobHistoryResponse

        query = {
            "since": since,
            "event_type": event_type,
            "execution_id": execution_id,
            "node_id": node_id,
            "limit": limit,
            "next_token": next_token,
        }
        path = f"{JOBS}/{_seg(job_id)}/history"
        return self._get(path, ListJobHistoryResponse, query)

    def results(self, job_id: str) -> ListJobResultsResponse:
        from .models.api import ListJobResultsResponse

        path = f"{JOBS}/{_seg(job_id)}/results"
        return self._get(path, ListJobResultsResponse)

    def stop(self, job_id: str, reason: str = "") -> StopJobResponse:
        from .models.api import StopJobResponse

        path = f"{JOBS}/{_seg(job_id)}"
        raw = self.request("DELETE", path, body={"reason": reason})
        return _parse(raw, StopJobResponse, path)

    def wait(
        self,
        job_id: str,
        timeout: float = 600.0,
        on_change: Callable[[GetJobResponse], None] | None = None,
        *,
        first_poll: float = 0.1,
        max_poll: float = 0.5,
    ) -> GetJobResponse:
        """Poll the job (with its executions) until it ends; the last response.

        `on_change` is called with the first response and with each one whose
        job state or execution states differ from the previous. A daemon or
        service job is done once it runs. `WaitTimeout` after `timeout` s.
        """
        deadline = time.monotonic() + timeout
        delay, seen = first_poll, None
        while True:
            response = self.get_job(job_id, include=("executions",))
            progress = _progress(response)
            if progress != seen:
                seen = progress
                if on_change is not None:
                    on_change(response)
            if _done(response.Job):
                return response
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                state = response.Job.State.StateType.name
                raise WaitTimeout(
                    f"job {job_id} is still {state} after {timeout:g} s",
                    job_id=job_id,
                    state=state,
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.5, max_poll)

    # -- nodes -------------------------------------------------------------

    def nodes(
        self,
        *,
        limit: int | None = None,
        next_token: str | None = None,
        order_by: str | None = None,
        reverse: bool = False,
        filter_approval: str | None = None,
        filter_status: str | None = None,
        labels: str | Iterable[str] | None = None,
    ) -> ListNodesResponse:
        from .models.api import ListNodesResponse

        query = {
            "limit": limit,
            "next_token": next_token,
            "order_by": order_by,
            "reverse": reverse or None,
            "filter-approval": filter_approval,
            "filter-status": filter_status,
            "labels": labels,
        }
        return self._get(NODES, ListNodesResponse, query)

    def node(self, node_id: str) -> GetNodeResponse:
        from .models.api import GetNodeResponse

        return self._get(f"{NODES}/{_seg(node_id)}", GetNodeResponse)

    # -- transport ---------------------------------------------------------

    def _get(self, path: str, model: type[M], query: Query | None = None) -> M:
        return _parse(self.request("GET", path, query=query), model, path)

    def request(
        self, method: str, path: str, *, query: Query | None = None, body: Any = None
    ) -> bytes:
        """One request; the response body on 2xx, `ClientError` otherwise."""
        target = path + _query_string(query or {})
        payload = None if body is None else json.dumps(body).encode()
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self.headers,
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        status, data = self._send(method, target, payload, headers)
        if status >= 400:
            raise _api_error(status, data, f"{method} {path}")
        return data

    def _send(
        self, method: str, target: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=self.timeout
        )
        try:
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except ConnectionRefusedError as exc:
            raise ConnectError(
                f"no bacalao node at {self.base_url} (is it running? start one "
                "with `bacalao serve` or `bacalao devstack`)",
                hint="or point --api-host/--api-port (BACALAO_API_HOST/PORT) at a node",
            ) from exc
        except TimeoutError as exc:
            raise ConnectError(
                f"the node at {self.base_url} did not answer within {self.timeout:g} s"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectError(f"cannot talk to {self.base_url}: {exc}") from exc
        finally:
            connection.close()


def _seg(value: str) -> str:
    return quote(value, safe="")


def _query_string(query: Query) -> str:
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


def _parse(data: bytes, model: type[M], what: str) -> M:
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


def _api_error(status: int, data: bytes, what: str) -> ClientError:
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


def _progress(response: GetJobResponse) -> tuple[object, ...]:
    state = response.Job.State
    executions = response.Executions.Items if response.Executions else []
    return (
        state.StateType,
        state.Message,
        tuple((e.ID, e.ComputeState.StateType) for e in executions),
    )


def _done(job: Job) -> bool:
    state = job.State.StateType
    return state.terminal or (job.long_running and state.name == "Running")


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ApiError",
    "Client",
    "ClientError",
    "ConnectError",
    "NotFound",
    "ResponseError",
    "WaitTimeout",
]
