"""An HTTP server in a container on Docker's default bridge: the "outside
world" that HTTP-network tasks may or may not reach (`/hello.txt`)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SERVE = (
    "mkdir /www && echo hello from outside > /www/hello.txt && httpd -f -p 80 -h /www"
)


@contextmanager
def outside_web_server(client: Any, image: str = "busybox:1.37.0") -> Iterator[str]:
    """Run the server; yield its bridge IP address once it answers."""
    server = client.containers.run(
        image,
        ["sh", "-c", SERVE],
        detach=True,
        network_mode="bridge",
        labels={"bacalao.test": "web-server"},
    )
    try:
        server.reload()
        address = str(server.attrs["NetworkSettings"]["IPAddress"])
        _wait_until_serving(f"http://{address}/hello.txt")
        yield address
    finally:
        server.remove(force=True)


def _wait_until_serving(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
