"""A node as an operating-system process: `serve` and `run_until_started`.

`serve(config)` runs one node until SIGINT/SIGTERM (`bacalao serve`): the
first signal stops it gracefully within `config.shutdown_grace` seconds
(`Node.stop(grace)`), a second one at once;
`run_until_started` is the `trio.run` both it and `bacalao devstack` use,
turning a failure before the node is up into a one-line `StartupError`.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import trio

from .config import NodeConfig
from .node import Node, NodeHandle
from .startup import check_repo, explain, sole_cause

log = logging.getLogger(__name__)


def serve(config: NodeConfig) -> None:
    """Run one node until SIGINT or SIGTERM (see the module docstring).

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
    node = Node(config)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            handle: NodeHandle = await nursery.start(_run_node, node, nursery)
            started()
            print(f"bacalao node {handle.node_id}", flush=True)
            print(f"  API:   {handle.api_url}", flush=True)
            for addr in handle.swarm_addrs:
                print(f"  swarm: {addr}", flush=True)
            nursery.start_soon(_stop_on_signals, signals, node, config.shutdown_grace)


async def _run_node(
    node: Node,
    nursery: trio.Nursery,
    *,
    task_status: trio.TaskStatus[NodeHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run `node`; once it has stopped, stop the rest of `nursery` too."""
    await node.run(task_status=task_status)
    nursery.cancel_scope.cancel()


async def _stop_on_signals(
    signals: AsyncIterator[int], node: Node, grace: float
) -> None:
    """The first signal stops the node within `grace` s, a second at once."""
    async for signum in signals:
        name = signal.Signals(signum).name
        if grace > 0:
            print(
                f"received {name}; stopping within {grace:g} s "
                "(send it again to stop at once)",
                flush=True,
            )
            node.stop(grace)
            grace = 0
        else:
            print(f"received {name}; stopping now", flush=True)
            node.stop()


__all__ = ["run_until_started", "serve"]
