"""A node as an operating-system process: `serve` and `run_until_started`.

`serve(config)` runs one node until SIGINT/SIGTERM (`bacalao serve`);
`run_until_started` is the `trio.run` both it and `bacalao devstack` use,
turning a failure before the node is up into a one-line `StartupError`.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import Any

import trio

from .config import NodeConfig
from .node import Node, NodeHandle
from .startup import check_repo, explain, sole_cause

log = logging.getLogger(__name__)


def serve(config: NodeConfig) -> None:
    """Run one node until SIGINT or SIGTERM.

    Raises `StartupError` if it cannot start for a reason the operator can
    fix (the traceback is logged at DEBUG); anything else propagates.
    """
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    run_until_started(_serve, config)


def run_until_started(main: Any, *args: Any) -> None:
    """`trio.run(main, *args, started)`, where `main` calls `started()` once
    up; a failure before that which `startup.explain` knows is raised as
    its `StartupError`, any other as itself, out of its exception groups."""
    up = False

    def started() -> None:
        nonlocal up
        up = True

    try:
        trio.run(main, *args, started)
    except Exception as exc:
        if up:
            raise
        problem = explain(exc)
        if problem is None:  # a bug: shown by its own type, not as a group
            cause = sole_cause(exc)
            if cause is exc:
                raise
            raise cause from None
        log.debug("start-up failed", exc_info=exc)
        raise problem from None


async def _serve(config: NodeConfig, started: Callable[[], None]) -> None:
    await trio.to_thread.run_sync(check_repo, config.repo)
    async with trio.open_nursery() as nursery:
        handle: NodeHandle = await nursery.start(Node(config).run)
        started()
        print(f"bacalao node {handle.node_id}", flush=True)
        print(f"  API:   {handle.api_url}", flush=True)
        for addr in handle.swarm_addrs:
            print(f"  swarm: {addr}", flush=True)
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                print(f"received {signal.Signals(signum).name}; stopping", flush=True)
                nursery.cancel_scope.cancel()
                break


__all__ = ["run_until_started", "serve"]
