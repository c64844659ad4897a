"""CLI test helpers: run the CLI in-process; serve the API from a thread.

`serving` starts `serve_api` on 127.0.0.1:0 in a thread of its own (its own
trio loop), so click's CliRunner can drive the CLI synchronously against
it, exactly as a user's shell would.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import trio
from click.testing import CliRunner, Result

from bacalao.api.app import serve_api
from bacalao.cli.main import cli
from tests.api.fakes import FakeBackend

CLEAN_ENV: dict[str, str | None] = {
    "BACALAO_API_HOST": None,
    "BACALAO_API_PORT": None,
    "BACALAO_DEBUG": None,
    "BACALAO_DIR": None,
}


def run_cli(*args: str, input: str | None = None) -> Result:
    """Invoke `bacalao ARGS...` in-process; never raises (see .exit_code)."""
    runner = CliRunner(env=CLEAN_ENV)
    return runner.invoke(cli, list(args), input=input, prog_name="bacalao")


@dataclass
class Live:
    backend: FakeBackend
    port: int

    def __call__(self, *args: str, **kwargs: Any) -> Result:
        """`bacalao --api-port PORT ARGS...`."""
        return run_cli("--api-port", str(self.port), *args, **kwargs)


@contextmanager
def serving(backend: FakeBackend) -> Iterator[Live]:
    """The real API over `backend`, on 127.0.0.1:0, in a thread of its own."""
    started: queue.Queue[
        tuple[int, trio.lowlevel.TrioToken, trio.CancelScope] | BaseException
    ] = queue.Queue()

    async def serve() -> None:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                port = await nursery.start(serve_api, backend, "127.0.0.1", 0)
                started.put((port, trio.lowlevel.current_trio_token(), scope))

    def run() -> None:
        try:
            trio.run(serve)
        except BaseException as exc:  # reported to the test below
            started.put(exc)

    thread = threading.Thread(target=run, name="live-api", daemon=True)
    thread.start()
    first = started.get(timeout=10)
    if isinstance(first, BaseException):
        raise first
    port, token, scope = first
    try:
        yield Live(backend, port)
    finally:
        trio.from_thread.run_sync(scope.cancel, trio_token=token)
        thread.join(timeout=10)
        assert not thread.is_alive(), "the API thread did not stop"
