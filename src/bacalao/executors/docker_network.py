"""The network a docker task gets, by its `Network.Type`.

    None, Default   no network at all (`none`)
    Host            the node's own network stack (opt-in: it also reaches
                    services the node only shows on 127.0.0.1)
    Full, Bridge    Docker's default bridge: the outside world, through NAT
    HTTP            only the job's `Domains`, over HTTP(S), through a proxy

For `HTTP`, `open_task_network` creates an internal Docker network for the
one execution (internal: no route out of it, not even to other tasks),
starts the filtering proxy (`http_proxy`) on that network's gateway
address, which is this machine's end of it, and hands the container
`http_proxy`/`https_proxy` pointing there. The container's only way out is
the proxy: Docker drops what it sends elsewhere, `docker_firewall` keeps
it from the host's other ports, its DNS lookups go nowhere (Docker
forwards them from inside the container), and the proxy resolves names
itself. The network and the proxy go away with the execution; the
executor's cleanup removes those a crashed node left behind.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

from .config import DockerConfig
from .docker_engine import DockerEngine
from .docker_firewall import bridge_name, host_guard
from .exceptions import ExecutorError
from .http_policy import HttpPolicy
from .http_proxy import serve_proxy

logger = logging.getLogger(__name__)

_MODES = {
    "Default": "none",
    "None": "none",
    "Host": "host",
    "Full": "bridge",
    "Bridge": "bridge",
    "HTTP": "",  # a network of its own, made per execution
}
_REMOVE_SECONDS = 15.0


def network_mode(network_type: str) -> str | None:
    """Docker's network mode for a task network type; None if unsupported."""
    return _MODES.get(network_type)


@dataclass(frozen=True)
class TaskNetwork:
    """What the container is attached to, and the environment that goes with it."""

    mode: str
    env: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def open_task_network(
    engine: DockerEngine,
    network_type: str,
    domains: list[str],
    *,
    name: str,
    labels: dict[str, str],
    config: DockerConfig,
    node_id: str = "",
) -> AsyncIterator[TaskNetwork]:
    """The network of one execution, for as long as the block runs."""
    if network_type != "HTTP":
        yield TaskNetwork(network_mode(network_type) or "none")
        return
    network = await engine.create_network(name, labels)
    try:
        gateway = _gateway(network)
        listeners = await _listen(gateway)
        policy = HttpPolicy(tuple(domains), allow_private=config.http_private)
        port = listeners[0].socket.getsockname()[1]
        guard = host_guard(bridge_name(network.id), port, node_id)
        async with guard, trio.open_nursery() as nursery:
            await nursery.start(serve_proxy, listeners, policy)
            yield TaskNetwork(network.name, proxy_env(f"http://{gateway}:{port}"))
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            await remove_network(engine, network)


def proxy_env(url: str) -> dict[str, str]:
    """The variables HTTP clients read to find their proxy."""
    names = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")
    return {name: url for name in names}


async def remove_network(engine: DockerEngine, network: Any) -> None:
    with trio.move_on_after(_REMOVE_SECONDS):
        try:
            await engine.call(network.remove)
        except ExecutorError as exc:
            if "not found" not in str(exc).lower():
                logger.warning("could not remove network %s: %s", network.name, exc)
        return
    logger.warning("removing network %s timed out", network.name)


def _gateway(network: Any) -> str:
    configs = network.attrs.get("IPAM", {}).get("Config") or []
    gateway = configs[0].get("Gateway") if configs else None
    if not gateway:
        raise ExecutorError(f"docker network {network.name} has no gateway address")
    return str(gateway)


async def _listen(address: str) -> list[trio.SocketListener]:
    try:
        return await trio.open_tcp_listeners(0, host=address)
    except OSError as exc:
        raise ExecutorError(
            f"HTTP networking needs the Docker engine on this machine: cannot "
            f"listen on the task network's gateway {address}: {exc.strerror or exc}"
        ) from exc
