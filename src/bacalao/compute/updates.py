"""Delivering execution updates to requesters: in order, until acknowledged.

One worker per requester sends that requester's updates in the order they
were made, retrying with backoff while the requester is unreachable.
Whatever queued up while a call was under way goes in the next call (up to
`BATCH_BYTES` of it), so a busy node's delivery keeps up with its work
instead of paying one round trip per update. Updates come from the
persisted outbox, so a restart resumes delivery where it stopped.
"""

from __future__ import annotations

import logging
import math

import trio

from ..models.wire import ExecutionUpdate, ExecutionUpdates
from ..p2p.exceptions import RemoteError
from ..p2p.interfaces import Calls
from ..protocol import EXECUTION_UPDATES
from .exceptions import ComputeStoreUnavailable
from .executions import LocalExecutions

log = logging.getLogger(__name__)

# well under the 16 MiB frame limit, even if every character of a task's
# output must be escaped in JSON (6 bytes for 1)
BATCH_BYTES = 4 * 1024 * 1024
RETRY_UNAVAILABLE = 0.2  # then doubling up to 5 s
RETRY_CLEAN = 5.0


class UpdateSender:
    """Sends execution updates from the outbox to their requesters."""

    def __init__(self, store: LocalExecutions, rpc: Calls) -> None:
        self._store = store
        self._rpc = rpc
        self._queues: dict[
            str, trio.MemorySendChannel[tuple[int, ExecutionUpdate]]
        ] = {}
        self._nursery: trio.Nursery | None = None
        self._delivered: list[int] = []
        self._wake_cleaner = trio.Event()
        self._stopping = False

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            try:
                for seq, requester, update in await self._store.pending():
                    self._queue(requester).send_nowait((seq, update))
                nursery.start_soon(self._clean_outbox)
                task_status.started()
                await trio.sleep_forever()
            finally:
                self._stopping = True

    async def _clean_outbox(self) -> None:
        """Drop delivered updates from the outbox, many at a time, off the
        delivery path (one left behind by a crash is merely sent again, and
        requesters ignore an update they already have)."""
        while True:
            await self._wake_cleaner.wait()
            self._wake_cleaner = trio.Event()
            done, self._delivered = self._delivered, []
            try:
                await self._store.delivered(done)
            except ComputeStoreUnavailable as exc:
                log.warning("outbox not cleaned yet: %s", exc)
                self._delivered.extend(done)
                await trio.sleep(RETRY_CLEAN)
                self._wake_cleaner.set()

    async def send(self, requester: str, update: ExecutionUpdate) -> None:
        """Persist `update` and queue it; returns before it is delivered.

        While the disk refuses the write, this waits and tries again: an
        update is never dropped for want of space.
        """
        delay = RETRY_UNAVAILABLE
        while True:
            try:
                seq = await self._store.enqueue(requester, update)
                break
            except ComputeStoreUnavailable as exc:
                log.error(
                    "update of %s waits for the disk: %s", update.ExecutionID, exc
                )
                await trio.sleep(delay)
                delay = min(delay * 2, 10.0)
        if self._stopping:  # the outbox has it: sent when the node is back
            return
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
            for chunk in _chunks(_latest_per_execution(batch)):
                await self._deliver(requester, chunk)

    async def _deliver(
        self, requester: str, chunk: list[tuple[list[int], ExecutionUpdate]]
    ) -> None:
        """Deliver `chunk` until the requester has stored or refused each
        update; while it answers "unavailable" (restarting, disk full), the
        updates stay in the outbox and are sent again."""
        seqs = [seq for seqs, _ in chunk for seq in seqs]
        request = ExecutionUpdates(Updates=[update for _, update in chunk])
        delay = RETRY_UNAVAILABLE
        while True:
            try:
                answer = await self._rpc.call_with_retry(
                    requester,
                    EXECUTION_UPDATES,
                    request,
                    timeout=10,
                    attempts=math.inf,
                    max_backoff=5.0,
                )
            except RemoteError as exc:
                if exc.code != "unavailable":
                    log.warning(
                        "requester %s refused updates %s: %s", requester, seqs, exc
                    )
                    break
                log.info("requester %s cannot take updates yet: %s", requester, exc)
                await trio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            for execution_id, reason in answer.Refused.items():
                log.warning(
                    "requester %s refused the update of %s: %s",
                    requester,
                    execution_id,
                    reason,
                )
            break
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


def _chunks(
    updates: list[tuple[list[int], ExecutionUpdate]],
) -> list[list[tuple[list[int], ExecutionUpdate]]]:
    """Split into calls of at most `ExecutionUpdates.LIMIT` updates and
    about `BATCH_BYTES` (a lone update bigger than that goes alone)."""
    chunks: list[list[tuple[list[int], ExecutionUpdate]]] = []
    size = 0
    for item in updates:
        cost = _worst_size(item[1])
        if (
            not chunks
            or len(chunks[-1]) >= ExecutionUpdates.LIMIT
            or size + cost > BATCH_BYTES
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += cost
    return chunks


def _worst_size(update: ExecutionUpdate) -> int:
    out = update.RunOutput
    text = len(out.Stdout) + len(out.STDERR) + len(out.ErrorMsg) if out else 0
    return 4096 + 6 * (text + len(update.Message))
