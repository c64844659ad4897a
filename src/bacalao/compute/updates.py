"""Delivering execution updates to requesters: in order, until acknowledged.

One worker per requester sends that requester's updates one at a time, in
the order they were made, retrying with backoff while the requester is
unreachable. Updates come from the persisted outbox, so a restart resumes
delivery where it stopped.
"""

from __future__ import annotations

import logging
import math

import trio

from ..models.wire import ExecutionUpdate
from ..p2p.exceptions import RemoteError
from ..p2p.rpc import Rpc
from ..protocol import EXECUTION_UPDATE
from .executions import LocalExecutions

log = logging.getLogger(__name__)


class UpdateSender:
    """Sends execution updates from the outbox to their requesters."""

    def __init__(self, store: LocalExecutions, rpc: Rpc) -> None:
        self._store = store
        self._rpc = rpc
        self._queues: dict[
            str, trio.MemorySendChannel[tuple[int, ExecutionUpdate]]
        ] = {}
        self._nursery: trio.Nursery | None = None
        self._delivered: list[int] = []
        self._wake_cleaner = trio.Event()

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for seq, requester, update in await self._store.pending():
                self._queue(requester).send_nowait((seq, update))
            nursery.start_soon(self._clean_outbox)
            task_status.started()
            await trio.sleep_forever()

    async def _clean_outbox(self) -> None:
        """Drop delivered updates from the outbox, many at a time, off the
        delivery path (one left behind by a crash is merely sent again, and
        requesters ignore an update they already have)."""
        while True:
            await self._wake_cleaner.wait()
            self._wake_cleaner = trio.Event()
            done, self._delivered = self._delivered, []
            await self._store.delivered(done)

    async def send(self, requester: str, update: ExecutionUpdate) -> None:
        """Persist `update` and queue it; returns before it is delivered."""
        seq = await self._store.enqueue(requester, update)
        self._queue(requester).send_nowait((seq, update))

    def _queue(
        self, requester: str
    ) -> trio.MemorySendChannel[tuple[int, ExecutionUpdate]]:
        queue = self._queues.get(requester)
        if queue is None:
            assert self._nursery is not None
            send, receive = trio.open_memory_channel[tuple[int, ExecutionUpdate]](
                math.inf
            )
            self._queues[requester] = queue = send
            self._nursery.start_soon(self._deliver_all, requester, receive)
        return queue

    async def _deliver_all(
        self,
        requester: str,
        queue: trio.MemoryReceiveChannel[tuple[int, ExecutionUpdate]],
    ) -> None:
        async for first in queue:
            batch = [first]
            while True:
                try:
                    batch.append(queue.receive_nowait())
                except trio.WouldBlock:
                    break
            for seqs, update in _latest_per_execution(batch):
                await self._deliver(requester, seqs, update)

    async def _deliver(
        self, requester: str, seqs: list[int], update: ExecutionUpdate
    ) -> None:
        try:
            await self._rpc.call_with_retry(
                requester,
                EXECUTION_UPDATE,
                update,
                timeout=10,
                attempts=math.inf,
                max_backoff=5.0,
            )
        except RemoteError as exc:
            log.warning("requester %s refused update %s: %s", requester, seqs, exc)
        self._delivered.extend(seqs)
        self._wake_cleaner.set()


def _latest_per_execution(
    batch: list[tuple[int, ExecutionUpdate]],
) -> list[tuple[list[int], ExecutionUpdate]]:
    """Each execution's newest update (it implies the earlier ones), in order.

    A task that finishes before its Running report went out is reported
    once, as Completed; the requester records the Running it implies.
    """
    latest: dict[str, tuple[list[int], ExecutionUpdate]] = {}
    for seq, update in batch:
        seqs = latest.pop(update.ExecutionID, ([], update))[0]
        latest[update.ExecutionID] = ([*seqs, seq], update)
    return list(latest.values())
