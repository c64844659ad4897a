"""Which request gets which dashboard file, and the headers that go with it.

`GET /` from a browser (an `Accept` naming `text/html`) is the page;
every other client still gets the node's version there, as before. The
page's files are under `/ui/` (`/ui/` itself is the page too). Files are
read from the package once, in a worker thread, on first use.

Each file carries a strong ETag (a digest of its bytes) and `Cache-Control:
no-cache`: a browser keeps its copy but asks each time, and a matching
`If-None-Match` gets a bodiless 304. The names are not fingerprinted, so a
longer max-age would keep an upgraded node's old script in browsers. A
strict Content-Security-Policy allows only the node's own scripts, styles
and connections (the page builds its DOM without `innerHTML`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import trio

from ..api.errors import NotFound
from ..api.http import Response

UI_PREFIX = "ui"
INDEX = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
CACHE_CONTROL = ("cache-control", "no-cache")
SECURITY_HEADERS = (
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'none'; "
        "base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
)


@dataclass(frozen=True)
class StaticFile:
    """One file of the page, ready to send."""

    body: bytes
    content_type: str
    etag: str


def load_files() -> dict[str, StaticFile]:
    """Every file in the package's `static/` folder, by name (blocking I/O)."""
    folder = resources.files(__package__ or "bacalao.web") / "static"
    files: dict[str, StaticFile] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if not entry.is_file() or suffix not in CONTENT_TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        files[entry.name] = StaticFile(body, CONTENT_TYPES[suffix], etag)
    return files


def wants_html(headers: Mapping[str, str]) -> bool:
    return "text/html" in headers.get("accept", "").lower()


class WebUi:
    """The dashboard's share of the API's paths (see the module docstring)."""

    def __init__(self) -> None:
        self._files: dict[str, StaticFile] | None = None

    def serves(
        self, method: str, segments: tuple[str, ...], headers: Mapping[str, str]
    ) -> bool:
        """Whether this request is for the page rather than for the API."""
        if method not in ("GET", "HEAD"):
            return False
        if not segments:
            return wants_html(headers)
        return segments[0] == UI_PREFIX and len(segments) <= 2

    async def respond(
        self, segments: tuple[str, ...], headers: Mapping[str, str]
    ) -> Response:
        """The file a `serves` request names; `NotFound` if there is none."""
        if self._files is None:
            self._files = await trio.to_thread.run_sync(load_files)
        name = segments[1] if len(segments) == 2 else INDEX
        found = self._files.get(name)
        if found is None:
            raise NotFound(
                f"the dashboard has no file {name!r}",
                hint="open the dashboard at / and follow its links",
            )
        extra = (("etag", found.etag), CACHE_CONTROL, *SECURITY_HEADERS)
        if found.etag in _etags(headers.get("if-none-match", "")):
            return Response(304, content_type=found.content_type, headers=extra)
        return Response(200, found.body, found.content_type, headers=extra)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


__all__ = ["INDEX", "UI_PREFIX", "StaticFile", "WebUi", "load_files", "wants_html"]
