"""Real libp2p swarms on 127.0.0.1, started in the test's nursery."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
import trio

from bacalao.p2p.host import Swarm, SwarmConfig

WAIT = 15.0


@dataclass
class RunningSwarm:
    """A swarm plus the means to stop it before the test ends."""

    swarm: Swarm
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    stopped: trio.Event = field(default_factory=trio.Event)

    async def run(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        try:
            with self.scope:
                await self.swarm.run(task_status=task_status)
        finally:
            self.stopped.set()

    async def stop(self) -> None:
        self.scope.cancel()
        with trio.fail_after(WAIT):
            await self.stopped.wait()


class StartSwarm(Protocol):
    def __call__(
        self,
        *,
        repo: Path | None = None,
        bootstrap: list[str] | None = None,
        port: int = 0,
        starting: bool = False,
        **config: Any,
    ) -> Awaitable[RunningSwarm]: ...


@pytest.fixture
async def start_swarm(nursery: trio.Nursery, tmp_path: Path) -> StartSwarm:
    """Start a swarm (fresh repo unless given) and wait until it is up;
    `config` sets other `SwarmConfig` fields (swarm_key, allow_peers...)."""
    counter = itertools.count()

    async def start(
        *,
        repo: Path | None = None,
        bootstrap: list[str] | None = None,
        port: int = 0,
        starting: bool = False,
        **config: Any,
    ) -> RunningSwarm:
        settings = SwarmConfig(
            listen_host="127.0.0.1",
            port=port,
            bootstrap=bootstrap or [],
            gossip_heartbeat=0.2,
            **config,
        )
        repo = repo or tmp_path / f"node{next(counter)}"
        running = RunningSwarm(Swarm(repo, settings))
        if not starting:  # as a node does once its parts have registered
            running.swarm.rpc.all_registered()
        with trio.fail_after(WAIT):
            await nursery.start(running.run)
        return running

    return start


async def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Wait for `condition` to hold, polling; `TooSlowError` after `timeout`."""
    with trio.fail_after(timeout):
        while not condition():
            await trio.sleep(0.02)
