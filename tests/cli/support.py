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
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from click.testing import CliRunner, Result

from bacalao.api.app import ApiOptions, serve_api
from bacalao.cli.main import cli
from tests.api.fakes import FakeBackend

if TYPE_CHECKING:
    from bacalao.node import NodeHandle

CLEAN_ENV: dict[str, str | None] = {
    "BACALAO_API_HOST": None,
    "BACALAO_API_PORT": None,
    "BACALAO_DEBUG": None,
    "BACALAO_DIR": None,
    "BACALAO_API_TOKEN": None,
    "BACALAO_TLS": None,
    "BACALAO_CACERT": None,
    "BACALAO_INSECURE": None,
    "BACALHAU_API_HOST": None,
    "BACALHAU_API_PORT": None,
    "BACALHAU_DIR": None,
}


def run_cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    """Invoke `bacalao ARGS...` in-process (with `env` set, BACALAO_* and
    BACALHAU_* unset); never raises (see .exit_code)."""
    runner = CliRunner(env={**CLEAN_ENV, **(env or {})})
    return runner.invoke(cli, list(args), input=input, prog_name="bacalao")


@dataclass
class Live:
    backend: FakeBackend
    port: int

    def __call__(self, *args: str, **kwargs: Any) -> Result:
        """`bacalao --api-port PORT ARGS...`."""
        return run_cli("--api-port", str(self.port), *args, **kwargs)


@contextmanager
def serving(backend: FakeBackend, options: ApiOptions | None = None) -> Iterator[Live]:
    """The real API over `backend`, on 127.0.0.1:0, in a thread of its own
    (with `options`: tokens, TLS)."""
    started: queue.Queue[
        tuple[int, trio.lowlevel.TrioToken, trio.CancelScope] | BaseException
    ] = queue.Queue()

    async def serve() -> None:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                port = await nursery.start(
                    partial(serve_api, options=options), backend, "127.0.0.1", 0
                )
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


@contextmanager
def running_devstack(
    repo_base: Path, count: int = 1, **overrides: Any
) -> Iterator[list[NodeHandle]]:
    """Real nodes (`open_devstack`) in a thread of their own, for the CLI and
    other blocking clients to talk to over their APIs."""
    from bacalao.devstack import open_devstack

    started: queue.Queue[
        tuple[list[NodeHandle], trio.lowlevel.TrioToken, trio.CancelScope]
        | BaseException
    ] = queue.Queue()
    overrides.setdefault("allow_noop", True)
    overrides.setdefault("node_timeout", 2.0)
    overrides.setdefault("heartbeat_interval", 0.25)

    async def serve() -> None:
        with trio.CancelScope() as scope:
            async with open_devstack(count, repo_base, **overrides) as handles:
                started.put((handles, trio.lowlevel.current_trio_token(), scope))
                await trio.sleep_forever()

    def run() -> None:
        try:
            trio.run(serve)
        except BaseException as exc:  # reported to the test below
            started.put(exc)

    thread = threading.Thread(target=run, name="devstack", daemon=True)
    thread.start()
    first = started.get(timeout=60)
    if isinstance(first, BaseException):
        raise first
    handles, token, scope = first
    try:
        yield handles
    finally:
        trio.from_thread.run_sync(scope.cancel, trio_token=token)
        thread.join(timeout=20)
        assert not thread.is_alive(), "the devstack did not stop"
