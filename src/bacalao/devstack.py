"""N nodes on one machine, in one process: for demos, tests and benchmarks.

Node 0 starts first; every other node gets node 0's swarm addresses as its
bootstrap peers and finds the rest through peer exchange. Node i serves its
HTTP API on `api_port + i` (port 0 picks free ports). Every node listens
for peers on 127.0.0.1 only; a swarm key, if given, is shared by all.
"""

from __future__ import annotations

import logging
import signal
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from .config import NodeConfig
from .node import Node, NodeHandle
from .process import run_until_started

log = logging.getLogger(__name__)


def node_config(
    repo: Path, index: int, api_port: int, peers: list[str], **overrides: Any
) -> NodeConfig:
    values: dict[str, Any] = {
        "repo": repo,
        "peers": peers,
        "swarm_host": "127.0.0.1",
        "swarm_port": 0,
        "api_host": "127.0.0.1",
        "api_port": api_port + index if api_port else 0,
        "labels": {"devstack-node": str(index)},
    }
    values.update(overrides)
    return NodeConfig.model_validate(values)


@asynccontextmanager
async def open_devstack(
    nodes: int,
    repo_base: Path,
    *,
    api_port: int = 0,
    per_node: dict[int, dict[str, Any]] | None = None,
    **overrides: Any,
) -> AsyncIterator[list[NodeHandle]]:
    """Start `nodes` nodes, wait until each knows all the others, yield handles."""
    handles: list[NodeHandle] = []
    async with trio.open_nursery() as nursery:
        peers: list[str] = []
        for i in range(nodes):
            extra = {**overrides, **(per_node or {}).get(i, {})}
            config = node_config(repo_base / f"node-{i}", i, api_port, peers, **extra)
            handle: NodeHandle = await nursery.start(Node(config).run)
            handles.append(handle)
            if i == 0:
                peers = handle.swarm_addrs
        await wait_until_formed(handles)
        yield handles
        nursery.cancel_scope.cancel()


async def wait_until_formed(handles: list[NodeHandle], timeout: float = 20) -> None:
    """Wait until every node's node list holds every node."""
    ids = {h.node_id for h in handles}
    with trio.fail_after(timeout):
        while True:
            if all(
                ids
                <= {
                    s.Info.NodeID
                    for s in h.node.nodes.states()
                    if s.Connection == "CONNECTED"
                }
                for h in handles
            ):
                return
            await trio.sleep(0.02)


def main(
    *,
    nodes: int = 3,
    api_port: int = 1234,
    repo_base: Path | None = None,
    allow_noop: bool = False,
    swarm_key: str | None = None,
    **settings: Any,
) -> None:
    """Run a devstack until SIGINT/SIGTERM (the `bacalao devstack` command).

    `swarm_key` (64 hex digits) makes it a private network; `settings` are
    node config keys every node gets (e.g. s3_endpoint). Raises
    `StartupError` if a node cannot start for a reason the user can fix.
    """
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    overrides: dict[str, Any] = {
        **settings,
        "allow_noop": allow_noop,
        "swarm_key": swarm_key,
    }
    run_until_started(_main, nodes, api_port, repo_base, overrides)


async def _main(
    nodes: int,
    api_port: int,
    repo_base: Path | None,
    overrides: dict[str, Any],
    started: Callable[[], None],
) -> None:
    with tempfile.TemporaryDirectory(prefix="bacalao-devstack-") as tmp:
        base = repo_base or Path(tmp)
        async with open_devstack(
            nodes, base, api_port=api_port, **overrides
        ) as handles:
            started()
            _print_banner(handles, base)
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    print("stopping devstack", flush=True)
                    break


def _print_banner(handles: list[NodeHandle], base: Path) -> None:
    print(f"devstack: {len(handles)} nodes, repos under {base}", flush=True)
    for i, h in enumerate(handles):
        print(f"node {i}: {h.node_id}", flush=True)
        print(f"  API:   {h.api_url}", flush=True)
        print(f"  swarm: {h.swarm_addrs[0]}", flush=True)
        print(
            f"  CLI:   bacalao --api-host 127.0.0.1 --api-port {h.api_port} ...",
            flush=True,
        )
    print("devstack ready (Ctrl-C to stop)", flush=True)
