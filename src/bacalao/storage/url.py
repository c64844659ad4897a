"""The `urlDownload` input source: an HTTP(S) GET on the compute node.

Params as Bacalhau's: `URL`. The body is saved as served (no content
decoding) into the input's folder, named from the response's
Content-Disposition, else from the URL's path, else `download`; the
folder is shown read-only at the target (`/inputs/<name>` by default).

The operator's `UrlConfig` bounds it: `max_bytes` (a larger
Content-Length fails at once, a body that grows past it fails when it
does), `idle_timeout` (seconds without a byte), and `retries` with
doubling backoff on 5xx answers and broken or refused connections.
Redirects are followed (at most 10). Runs on trio (httpx), no thread.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import trio

from ..dataplane import PluginContext, UrlConfig
from ..models.job import InputSource
from ..models.resources import format_bytes
from .base import InputSourcePlugin, ParamError, StagedInput, lower_params
from .exceptions import StorageError

MAX_REDIRECTS = 10
DEFAULT_NAME = "download"
_DISPOSITION = re.compile(
    r"""filename\*\s*=\s*[^']*'[^']*'(?P<ext>[^;]+)|filename\s*=\s*"?(?P<plain>[^";]+)"?""",
    re.IGNORECASE,
)


class _Retry(Exception):
    """A failure worth another try (5xx, connection broken or idle)."""


def check_params(params: dict[str, Any]) -> ParamError | None:
    url = lower_params(params).get("url")
    if not isinstance(url, str) or not url.strip():
        return ParamError("URL", "a urlDownload source needs a URL")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ParamError("URL", f"{url!r} is not an http(s) URL")
    return None


def safe_name(text: str) -> str | None:
    """`text` as a file name, or None if it cannot be one."""
    name = posixpath.basename(text.replace("\\", "/")).strip()
    if name in ("", ".", "..") or "\x00" in name:
        return None
    return name[:255]


def file_name(url: str, disposition: str | None) -> str:
    """The name to save a download under (Content-Disposition, URL, default)."""
    if disposition:
        match = _DISPOSITION.search(disposition)
        if match:
            raw = match.group("ext") or match.group("plain") or ""
            name = safe_name(unquote(raw.strip()))
            if name:
                return name
    return safe_name(unquote(urlsplit(url).path)) or DEFAULT_NAME


class UrlSource:
    """Downloads inputs over HTTP(S)."""

    def __init__(self, config: UrlConfig) -> None:
        self._config = config

    async def check(self) -> str | None:
        return None

    def refusal(self, source: InputSource) -> str | None:
        problem = check_params(source.Source.Params)
        return None if problem is None else f"input {source.Target}: {problem.message}"

    async def stage(self, source: InputSource, dest: Path) -> StagedInput:
        problem = check_params(source.Source.Params)
        if problem is not None:
            raise StorageError(f"input {source.Target}: {problem.message}")
        url = str(lower_params(source.Source.Params)["url"]).strip()
        delay = self._config.backoff
        for attempt in range(self._config.retries + 1):
            try:
                await self._fetch(url, dest)
                break
            except _Retry as exc:
                if attempt == self._config.retries:
                    tries = f"{attempt + 1} tries" if attempt else "1 try"
                    raise StorageError(f"input {url}: {exc} (after {tries})") from None
            await trio.sleep(delay)
            delay *= 2
        return StagedInput(host_path=dest, target=source.Target, read_only=True)

    async def _fetch(self, url: str, dest: Path) -> None:
        import httpx

        idle = self._config.idle_timeout
        timeout = httpx.Timeout(idle, connect=min(idle, 10.0))
        headers = {"Accept-Encoding": "identity", "User-Agent": "bacalao"}
        try:
            async with (
                httpx.AsyncClient(
                    follow_redirects=True,
                    max_redirects=MAX_REDIRECTS,
                    timeout=timeout,
                    trust_env=False,
                    headers=headers,
                ) as client,
                client.stream("GET", url) as response,
            ):
                self._check_response(url, response)
                name = file_name(url, response.headers.get("content-disposition"))
                await self._save(url, response, dest / name)
        except httpx.TooManyRedirects:
            raise StorageError(
                f"input {url}: more than {MAX_REDIRECTS} redirects"
            ) from None
        except httpx.TimeoutException:
            raise _Retry(f"no data for {idle:g} s") from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed: {exc or type(exc).__name__}") from None

    def _check_response(self, url: str, response: Any) -> None:
        status = int(response.status_code)
        if status >= 500:
            raise _Retry(f"the server answered HTTP {status}")
        if status >= 400:
            raise StorageError(
                f"input {url}: the server answered HTTP {status} "
                f"{response.reason_phrase}"
            )
        length = response.headers.get("content-length")
        limit = self._config.max_bytes
        if length and length.isdigit() and int(length) > limit:
            raise StorageError(
                f"input {url}: it is {format_bytes(int(length))}, more than "
                f"this node downloads ({format_bytes(limit)})"
            )

    async def _save(self, url: str, response: Any, path: Path) -> None:
        limit = self._config.max_bytes
        size = 0
        # Past the limit, cancel the scope and let the next read inside httpx
        # raise: stopping in this loop's body would strand its generators.
        async with await trio.open_file(path, "wb") as file:
            with trio.CancelScope() as scope:
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > limit:
                        scope.cancel()
                        continue
                    await file.write(chunk)
        if scope.cancelled_caught:
            raise StorageError(
                f"input {url}: larger than this node downloads ({format_bytes(limit)})"
            )


def build(ctx: PluginContext) -> InputSourcePlugin:
    return UrlSource(ctx.config.url)
