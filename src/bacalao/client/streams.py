"""The streaming half of the client: a job's logs and downloads.

`Client` inherits `Streams`: `logs` follows a job's output over the logs
WebSocket (`client.ws`); `open_download`/`download` read a results archive
or any published URL, sending the node's token only to API paths.
Standard library only, like the rest of the client.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from .conn import USER_AGENT, Endpoint
from .errors import ApiError, ClientError, ConnectError
from .wire import api_error, int_header, parse, query_string, seg

if TYPE_CHECKING:
    from ..models.api import ExecutionLog

JOBS = "/api/v1/orchestrator/jobs"
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


class Streams:
    """Logs and downloads, for a class with a node `endpoint` (see `Client`)."""

    endpoint: Endpoint
    host: str
    port: int
    timeout: float
    headers: dict[str, str]

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
            raise self.endpoint.connect_error(exc, self.timeout) from exc
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


__all__ = ["Download", "Streams"]
