"""A typed, synchronous client of the v1 REST API (Bacalhau's paths and JSON).

    from bacalao.client.api import Client

    client = Client("127.0.0.1", 1234)
    submitted = client.submit(job)                 # a Job, or a spec as a dict
    final = client.wait(submitted.JobID, timeout=60)
    print(final.Job.State.StateType.name)

    for line in client.logs(submitted.JobID, follow=True):
        print(line.Line, end="")

A node that wants a token or speaks https:

    client = Client("node.example", 1234, tls=True, cacert="ca.pem", token="...")
    client = Client.from_url("https://node.example:1234", token="...")

It uses only the standard library (`http.client`; `client_conn` for http
or https and the token; `client_ws` for the logs WebSocket; `client_wire`
for query strings, parsing and errors) and
`bacalao.models`, which it imports on first use so that `import
bacalao.client` stays cheap. Errors are those of
`bacalao.client.errors`. A `Client` opens one connection per request, so
it is safe to share between threads.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from .conn import Endpoint, parse_api_url
from .errors import (
    ApiError,
    ClientError,
    ConnectError,
    NotFound,
    ResponseError,
    WaitTimeout,
)
from .wire import (
    Query,
    api_error,
    int_header,
    job_done,
    parse,
    query_string,
    seg,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ..models.api import (
        ExecutionLog,
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
    from ..models.job import Job
    from ..models.node import BuildVersionInfo, NodeInfo
    from .events import ServerEvent

    M = TypeVar("M", bound=BaseModel)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1234
JOBS = "/api/v1/orchestrator/jobs"
NODES = "/api/v1/orchestrator/nodes"
EVENTS = "/api/v1/orchestrator/events"
USER_AGENT = "bacalao-client"
DOWNLOAD_CHUNK = 256 * 1024
UNPACKED_HEADER = "x-bacalao-unpacked-bytes"  # size of a results tar.gz, unpacked


@dataclass
class Download:
    """An open download: read it; `length` is its size when the server said
    it, `unpacked` the bytes a results archive holds once unpacked."""

    url: str
    response: http.client.HTTPResponse
    length: int | None
    unpacked: int | None

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (as soon as some arrive); b"" at the end."""
        return self.response.read1(size) if size > 0 else self.response.read()


class Client:
    """Talks to one node's HTTP API; every method is one request (or a poll)."""

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        tls: bool = False,
        cacert: str | None = None,
        insecure: bool = False,
    ) -> None:
        """`token`: sent as `Authorization: Bearer`; `tls`: https, trusting
        the system's CAs or only `cacert` (PEM), or anything if `insecure`."""
        self.endpoint = Endpoint(host, port, tls, token or None, cacert, insecure)
        self.host = host
        self.port = port
        self.timeout = timeout
        self.headers = dict(headers or {})

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Client:
        """A client of the node at `url` (`https://host:port` or `http://...`;
        the port defaults to 1234); `kwargs` as for `Client`."""
        tls, host, port = parse_api_url(url if "://" in url else f"http://{url}")
        return cls(host, port or DEFAULT_PORT, tls=bool(tls), **kwargs)

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    # -- agent -------------------------------------------------------------

    def alive(self) -> IsAliveResponse:
        from ..models.api import IsAliveResponse

        return self._get("/api/v1/agent/alive", IsAliveResponse)

    def version(self) -> BuildVersionInfo:
        from ..models.node import BuildVersionInfo

        return self._get("/api/v1/agent/version", BuildVersionInfo)

    def agent_node(self) -> NodeInfo:
        from ..models.node import NodeInfo

        return self._get("/api/v1/agent/node", NodeInfo)

    def debug_info(self) -> dict[str, Any]:
        """The node's debug counters by component (peers, gossip, allow-list)."""
        data = json.loads(self.request("GET", "/api/v1/agent/debug"))
        if not isinstance(data, dict):
            raise ResponseError("unexpected answer to GET /api/v1/agent/debug")
        return data

    # -- jobs --------------------------------------------------------------

    def submit(
        self, job: Job | Mapping[str, Any], *, force: bool = False
    ) -> PutJobResponse:
        """Submit a job (a `Job`, or a spec as plain data in Bacalhau's shape)."""
        from ..models.api import PutJobResponse

        spec = job if isinstance(job, Mapping) else job.model_dump(mode="json")
        raw = self.request("PUT", JOBS, body={"Job": spec, "Force": force})
        return parse(raw, PutJobResponse, JOBS)

    def get_job(
        self,
        job_id: str,
        *,
        include: Iterable[str] = (),
        namespace: str | None = None,
    ) -> GetJobResponse:
        """A job by ID, unique ID prefix or name; `include` may hold history,
        executions."""
        from ..models.api import GetJobResponse

        query = {"include": ",".join(include) or None, "namespace": namespace}
        return self._get(f"{JOBS}/{seg(job_id)}", GetJobResponse, query)

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
        from ..models.api import ListJobsResponse

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
        from ..models.api import ListJobExecutionsResponse

        query = {
            "limit": limit,
            "next_token": next_token,
            "order_by": order_by,
            "reverse": reverse or None,
        }
        path = f"{JOBS}/{seg(job_id)}/executions"
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
        job_version: int | None = None,
        all_job_versions: bool = False,
    ) -> ListJobHistoryResponse:
        from ..models.api import ListJobHistoryResponse

        query = {
            "since": since,
            "event_type": event_type,
            "execution_id": execution_id,
            "node_id": node_id,
            "limit": limit,
            "next_token": next_token,
            "job_version": job_version,
            "all_job_versions": all_job_versions or None,
        }
        path = f"{JOBS}/{seg(job_id)}/history"
        return self._get(path, ListJobHistoryResponse, query)

    def results(self, job_id: str) -> ListJobResultsResponse:
        from ..models.api import ListJobResultsResponse

        path = f"{JOBS}/{seg(job_id)}/results"
        return self._get(path, ListJobResultsResponse)

    def logs(
        self,
        job_id: str,
        *,
        execution_id: str = "",
        follow: bool = False,
        tail: bool = False,
    ) -> Iterator[ExecutionLog]:
        """A job's output lines (`Line` keeps its newline), over the logs
        WebSocket; with `follow`, until the execution ends. A failure the
        node reports (unknown job, unreachable compute node) is `ApiError`."""
        from ..models.api import LogStreamMessage
        from .ws import HandshakeRefused, WebSocket

        query = {
            "execution_id": execution_id or None,
            "follow": follow or None,
            "tail": tail or None,
        }
        path = f"{JOBS}/{seg(job_id)}/logs"
        what = f"logs of {job_id}"
        try:
            socket = WebSocket.connect(
                self.host,
                self.port,
                path + query_string(query),
                timeout=None if follow else self.timeout,
                headers={
                    "User-Agent": USER_AGENT,
                    **self.endpoint.auth_headers(),
                    **self.headers,
                },
                ssl_context=self.endpoint.ssl_context(),
            )
        except HandshakeRefused as exc:
            raise api_error(exc.status, exc.body, f"GET {path}") from None
        except OSError as exc:
            raise self._connect_error(exc) from exc
        with socket:
            try:
                for text in socket.messages():
                    message = parse(text.encode(), LogStreamMessage, what)
                    if message.error:
                        raise ApiError(message.error, status=0, code="LogStream")
                    yield message.value
            except OSError as exc:
                raise ConnectError(f"the log stream of {job_id} broke: {exc}") from exc

    @contextmanager
    def open_download(self, url: str) -> Iterator[Download]:
        """An open download of `url` (e.g. a PublishedResult's `URL`, on any
        node) to read from; `ClientError` if it fails or breaks off.

        https URLs are checked as this client checks its node; the token
        goes along only to API paths (`/api/v1/...`: results on a node of
        the network, which share their tokens), never to other URLs."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(f"cannot download {url!r}: not an http(s) URL")
        connection = self.endpoint.connection_to(
            parts.hostname, parts.port, parts.scheme == "https", self.timeout
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": USER_AGENT}
        if parts.path.startswith("/api/v1/"):
            headers.update(self.endpoint.auth_headers())
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            if response.status >= 400:
                raise api_error(response.status, response.read(), f"GET {url}")
            yield Download(
                url,
                response,
                int_header(response, "content-length"),
                int_header(response, UNPACKED_HEADER),
            )
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectError(f"downloading {url} failed: {exc}") from exc
        finally:
            connection.close()

    def download(
        self,
        url: str,
        sink: IO[bytes],
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> int:
        """Copy `url` into `sink`, calling `on_progress(done, total or None)`
        per chunk; the byte count. `ClientError` if it fails or is cut short."""
        with self.open_download(url) as download:
            done = 0
            while chunk := download.read(DOWNLOAD_CHUNK):
                sink.write(chunk)
                done += len(chunk)
                if on_progress is not None:
                    on_progress(done, download.length)
            if download.length is not None and done < download.length:
                raise http.client.IncompleteRead(b"", download.length - done)
            return done

    def stop(self, job_id: str, reason: str = "") -> StopJobResponse:
        from ..models.api import StopJobResponse

        path = f"{JOBS}/{seg(job_id)}"
        raw = self.request("DELETE", path, body={"reason": reason})
        return parse(raw, StopJobResponse, path)

    def wait(
        self,
        job_id: str,
        timeout: float = 600.0,
        on_change: Callable[[GetJobResponse], None] | None = None,
        *,
        first_poll: float = 0.1,
        max_poll: float = 0.5,
        on_poll: Callable[[GetJobResponse], None] | None = None,
        until: Callable[[GetJobResponse], bool] | None = None,
    ) -> GetJobResponse:
        """Follow the job (with its executions) until it ends; the last response.

        On the node's event stream, each change as it happens; a node without
        the stream is polled (first after `first_poll` s, backing off to
        `max_poll`; see `client.waiting`). `on_change` is called with the
        first response and with each one whose job state or execution states
        differ from the previous; `on_poll` with every response. A daemon or
        service job is done once it runs; `until` replaces that test.
        `WaitTimeout` after `timeout` s.
        """
        from ..models.api import GetJobResponse
        from .waiting import wait_for_job

        def model(update: dict[str, Any]) -> GetJobResponse:
            executions = {"Items": update.get("Executions", [])}
            return GetJobResponse.model_validate({**update, "Executions": executions})

        def changed(update: dict[str, Any]) -> None:
            if on_change is not None:
                on_change(model(update))

        def finished(update: dict[str, Any]) -> bool:
            response = model(update)
            if on_poll is not None:
                on_poll(response)
            return until(response) if until is not None else job_done(response.Job)

        last = wait_for_job(
            self,
            job_id,
            timeout,
            on_change=changed,
            until=finished,
            first_poll=first_poll,
            max_poll=max_poll,
        )
        return model(last)

    def events(
        self, job_id: str = "", *, timeout: float | None = None
    ) -> Generator[ServerEvent, None, None]:
        """The node's event stream (one job's, with `job_id`: its current
        state first), as it comes; `timeout`: s without a byte, keepalives
        included. A node without the stream answers `NotFound`."""
        from .events import READ_TIMEOUT, stream_events

        target = EVENTS + query_string({"job_id": job_id or None})
        headers = {
            "Accept": "text/event-stream",
            "User-Agent": USER_AGENT,
            **self.endpoint.auth_headers(),
            **self.headers,
        }
        wait = READ_TIMEOUT if timeout is None else timeout
        return stream_events(self.endpoint, target, headers, wait)

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
        from ..models.api import ListNodesResponse

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
        from ..models.api import GetNodeResponse

        return self._get(f"{NODES}/{seg(node_id)}", GetNodeResponse)

    def update_node(self, node_id: str, action: str, message: str = "") -> None:
        """Approve, reject or delete a node (`action`), as an operator."""
        path = f"{NODES}/{seg(node_id)}"
        self.request("PUT", path, body={"Action": action, "Message": message})

    # -- transport ---------------------------------------------------------

    def _get(self, path: str, model: type[M], query: Query | None = None) -> M:
        return parse(self.request("GET", path, query=query), model, path)

    def request(
        self, method: str, path: str, *, query: Query | None = None, body: Any = None
    ) -> bytes:
        """One request; the response body on 2xx, `ClientError` otherwise."""
        target = path + query_string(query or {})
        payload = None if body is None else json.dumps(body).encode()
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self.endpoint.auth_headers(),
            **self.headers,
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        status, data = self._send(method, target, payload, headers)
        if status >= 400:
            raise api_error(status, data, f"{method} {path}")
        return data

    def _connect_error(self, exc: OSError) -> ConnectError:
        return self.endpoint.connect_error(exc, self.timeout)

    def _send(
        self, method: str, target: str, payload: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        connection = self.endpoint.connection(self.timeout)
        try:
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as exc:
            raise self._connect_error(exc) from exc
        except http.client.HTTPException as exc:
            raise ConnectError(f"cannot talk to {self.base_url}: {exc}") from exc
        finally:
            connection.close()


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ApiError",
    "Client",
    "ClientError",
    "ConnectError",
    "Download",
    "NotFound",
    "ResponseError",
    "WaitTimeout",
]
