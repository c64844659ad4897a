"""A scriptable HTTP server on 127.0.0.1 for download tests.

    with LoopbackServer() as server:
        server.route("/a.txt", body=b"hi")
        server.route("/old", status=302, headers={"Location": "/a.txt"})
        server.route("/flaky", statuses=[500, 200], body=b"ok")   # 500 then 200
        server.route("/slow", body=b"x" * 10, pause=5.0)  # stalls mid-body
        url = server.url("/a.txt")

Unknown paths answer 404. It runs in a thread (the standard library's
ThreadingHTTPServer) and counts the requests each path got (`hits`).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    statuses: list[int] = field(default_factory=list)  # consumed first, one a hit
    headers: dict[str, str] = field(default_factory=dict)
    pause: float = 0.0  # seconds to stall after half the body
    chunked: bool = False  # no Content-Length


class LoopbackServer:
    """An HTTP server on 127.0.0.1 with scripted routes."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self._closing = threading.Event()
        handler = _handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def route(self, path: str, **options: Any) -> str:
        self.routes[path] = Route(**options)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server.hits[path] += 1
            route = server.routes.get(path)
            if route is None:
                self._send(404, b"not found", {})
                return
            status = route.statuses.pop(0) if route.statuses else route.status
            self._send(
                status, route.body if status < 300 else b"", route.headers, route
            )

        def _send(
            self,
            status: int,
            body: bytes,
            headers: dict[str, str],
            route: Route | None = None,
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if route is None or not route.chunked:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            half = len(body) // 2
            try:
                self.wfile.write(body[:half])
                self.wfile.flush()
                if route is not None and route.pause:
                    server._closing.wait(route.pause)
                self.wfile.write(body[half:])
            except OSError:
                pass

    return Handler
