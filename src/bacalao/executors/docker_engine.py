"""A trio-friendly handle on the Docker engine: the SDK behind one seam.

Every call of the `docker` SDK happens here, in a worker thread, and every
error it raises (`docker.errors.*`, `requests` exceptions) is translated
into ours at this boundary:

    engine unreachable, client cannot connect  → EngineUnavailable
    anything else the engine refuses           → ExecutorError

Short calls use trio's default thread limiter; calls that block for the
life of a container (wait, log streams) use `long_calls`, a limiter of
their own, so many running tasks cannot starve other worker threads.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import docker
import docker.errors
import docker.utils
import requests.exceptions
import trio
from docker.constants import DEFAULT_UNIX_SOCKET

from .config import DockerConfig
from .exceptions import EngineUnavailable, ExecutorError

T = TypeVar("T")
_POOL_SIZE = 64
_PROBE_SECONDS = 5.0
_SDK_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)
_UNREACHABLE = (requests.exceptions.ConnectionError, docker.errors.DockerException)


def translate(exc: Exception) -> ExecutorError:
    """Our exception for an error raised by the docker SDK or requests."""
    if isinstance(exc, docker.errors.APIError):
        return ExecutorError(f"docker: {exc.explanation or exc}")
    if isinstance(exc, requests.exceptions.Timeout):
        return EngineUnavailable(f"docker engine did not answer in time: {exc}")
    if isinstance(exc, _UNREACHABLE):
        return EngineUnavailable(f"docker engine not reachable: {exc}")
    return ExecutorError(f"docker: {exc}")


class DockerEngine:
    """The Docker engine of this node, connected on first use."""

    def __init__(self, config: DockerConfig) -> None:
        self._config = config
        self._client: Any = None
        self._long_calls: trio.CapacityLimiter | None = None

    @property
    def long_calls(self) -> trio.CapacityLimiter:
        """The thread limiter for calls that last as long as a container."""
        if self._long_calls is None:
            self._long_calls = trio.CapacityLimiter(self._config.max_threads)
        return self._long_calls

    async def call(
        self,
        fn: Callable[..., T],
        *args: Any,
        long: bool = False,
        **kwargs: Any,
    ) -> T:
        """Run `fn(*args, **kwargs)` in a thread, translating SDK errors.

        A `long` call is abandoned on cancellation (its thread ends when the
        container it waits on is removed); a short one is waited for.
        """
        limiter = self.long_calls if long else None
        try:
            return await trio.to_thread.run_sync(
                partial(fn, *args, **kwargs), abandon_on_cancel=long, limiter=limiter
            )
        except _SDK_ERRORS as exc:
            raise translate(exc) from exc

    async def client(self) -> Any:
        """The SDK client (`docker.DockerClient`), connecting if needed."""
        if self._client is None:
            client = await self.call(connect, self._config.host)
            if self._client is None:
                self._client = client
            else:
                client.close()
        return self._client

    async def ping(self) -> None:
        client = await self.client()
        await self.call(client.ping)

    async def has_image(self, image: str) -> bool:
        client = await self.client()
        return await self.call(_has_image, client, image)

    async def pull(self, image: str) -> None:
        client = await self.client()
        await self.call(client.images.pull, image, long=True)

    async def create(self, options: dict[str, Any]) -> Any:
        client = await self.client()
        return await self.call(client.containers.create, **options)

    async def containers(self, labels: list[str]) -> list[Any]:
        client = await self.client()
        filters = {"label": labels}
        return await self.call(client.containers.list, all=True, filters=filters)

    async def create_network(self, name: str, labels: dict[str, str]) -> Any:
        """An internal bridge network (no route out), inspected."""
        client = await self.client()
        network = await self.call(
            client.networks.create,
            name,
            driver="bridge",
            internal=True,
            labels=labels,
            check_duplicate=True,
        )
        await self.call(network.reload)
        return network

    async def networks(self, labels: list[str]) -> list[Any]:
        client = await self.client()
        return await self.call(client.networks.list, filters={"label": labels})

    async def close(self) -> None:
        """Close the client's connections (it reconnects on next use)."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await trio.to_thread.run_sync(client.close)


def connect(host: str | None = None) -> Any:
    """A `docker.DockerClient` for `host` (None: from DOCKER_HOST etc.).

    Blocking. Raises `EngineUnavailable` when a unix socket does not
    answer, the SDK's errors otherwise.
    """
    if host:
        kwargs: dict[str, Any] = {"base_url": host}
    else:
        kwargs = docker.utils.kwargs_from_env()
    _probe_unix_socket(kwargs.get("base_url") or DEFAULT_UNIX_SOCKET)
    return docker.DockerClient(**kwargs, max_pool_size=_POOL_SIZE)


def _probe_unix_socket(url: str) -> None:
    """Fail early, and without leaking, when a unix socket does not answer.

    docker-py leaks the socket of a failed unix connect (a ResourceWarning
    when it is collected), so a missing engine is detected here first.
    """
    scheme, _, path = url.partition("://")
    if scheme not in ("unix", "http+unix"):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(_PROBE_SECONDS)
        try:
            probe.connect(path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise EngineUnavailable(
                f"docker engine not reachable: cannot connect to {path}: {reason}"
            ) from exc


def _has_image(client: Any, image: str) -> bool:
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True
