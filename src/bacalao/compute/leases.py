"""Keeping the requesters' leases on the executions this node holds.

Every lease interval, each requester is told which of its executions this
node still holds: a requester that stops hearing of one fails it and
places it again. Executions the requester says have ended are cancelled
here (their cancel was lost on the way).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import trio

from ..models.wire import ExecutionsAlive
from ..p2p.exceptions import P2PError
from ..protocol import EXECUTIONS_ALIVE

log = logging.getLogger(__name__)

Held = tuple[str, str]  # (execution ID, its requester)


class LeaseKeeper:
    """Renews leases for `held()`; calls `cancel(execution ID, requester)`
    for the executions their requester has ended."""

    def __init__(
        self,
        calls: Any,
        interval: float,
        held: Callable[[], Iterable[Held]],
        cancel: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._calls = calls
        self._interval = interval
        self._held = held
        self._cancel = cancel

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            while True:
                await trio.sleep(self._interval)
                by_requester: dict[str, list[str]] = {}
                for execution_id, requester in self._held():
                    by_requester.setdefault(requester, []).append(execution_id)
                for requester, ids in by_requester.items():
                    nursery.start_soon(self._renew, requester, ids)

    async def _renew(self, requester: str, ids: list[str]) -> None:
        request = ExecutionsAlive(ExecutionIDs=ids[: ExecutionsAlive.LIMIT])
        try:
            answer = await self._calls.call(
                requester, EXECUTIONS_ALIVE, request, timeout=self._interval
            )
        except P2PError as exc:
            log.debug("lease renewal to %s failed: %s", requester, exc)
            return
        for execution_id in answer.Ended:
            log.info("%s ended on its requester; cancelling it", execution_id)
            await self._cancel(execution_id, requester)
