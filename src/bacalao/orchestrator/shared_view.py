"""The shared view: every node can answer for every job in the network.

The requester that owns a job publishes a snapshot of it (the job and its
executions) on the job-events topic after it changes, coalesced over a
quarter second into batches. Every other node stores the snapshot if it
is newer than what it has. A job's history stays with its owner, which
answers for it over the history RPC: it is most of a snapshot's bytes and
of the cost of checking one, and is read far less often than it changes. Gossip can lose
messages, so each node also pulls, from every orchestrator it knows, the
snapshots changed since the last pull (the sync RPC): at start, when a new
orchestrator appears, and periodically. Snapshots are idempotent and each
supersedes the last, so repeats and reordering are harmless.

A node without an orchestrator (a compute-only node) does not follow the
job-events topic at all: it would spend a share of its CPU decoding and
storing every job of the network while running a few of them. It pulls
instead, over the same sync RPC, when its API is asked about jobs
(`refresh`), so it still answers for every job.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import trio

from ..models.history import JobHistory
from ..models.wire import (
    HistoryRequest,
    HistoryResponse,
    JobEvents,
    JobSnapshot,
    SyncRequest,
    SyncResponse,
)
from ..p2p.exceptions import P2PError
from ..p2p.gossip import Gossip
from ..p2p.rpc import HandlerError, Rpc
from ..protocol import HISTORY, JOB_EVENTS, SYNC
from .record import JobRecord
from .store import JobStore

log = logging.getLogger(__name__)

COALESCE = 0.25
MAX_MESSAGE_BYTES = 512 * 1024
SYNC_INTERVAL = 30.0
REFRESH_EVERY = 0.1  # pull mode: readers within this window share one pull
REFRESH_TIMEOUT = 3.0


class SharedView:
    """Publishes this node's job changes and keeps replicas of the others'."""

    def __init__(
        self,
        node_id: str,
        store: JobStore,
        gossip: Gossip,
        rpc: Rpc,
        orchestrators: Callable[[], list[str]],
        *,
        follow_gossip: bool = True,
    ) -> None:
        self.node_id = node_id
        self.follow_gossip = follow_gossip
        self.store = store
        self.gossip = gossip
        self.rpc = rpc
        self._orchestrators = orchestrators
        self._dirty: dict[str, JobSnapshot] = {}
        self._wake = trio.Event()
        self._incoming_send, self._incoming = trio.open_memory_channel[
            list[JobSnapshot]
        ](4096)
        self._synced: dict[str, int] = {}
        self._sync_now = trio.Event()
        self._refresh_lock = trio.Lock()
        self._refreshed_at = -math.inf
        rpc.register(SYNC, self._on_sync)
        rpc.register(HISTORY, self._on_history)

    def job_changed(self, record: JobRecord) -> None:
        """Queue a snapshot of `record` for publishing."""
        self._dirty[record.job.ID] = JobSnapshot(
            RequesterID=self.node_id,
            Job=record.job.model_copy(),
            Executions=[e.model_copy() for e in record.executions.values()],
        )
        self._wake.set()

    def orchestrator_appeared(self) -> None:
        self._sync_now.set()

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._publish_loop)
            if self.follow_gossip:
                await nursery.start(self.gossip.serve, JOB_EVENTS, self._on_gossip)
                nursery.start_soon(self._store_loop)
                nursery.start_soon(self._sync_loop)
            task_status.started()

    async def refresh(self) -> None:
        """In pull mode, bring the replicas up to date before a read: pull
        what changed from every orchestrator. Readers arriving together share
        one pull. A no-op on a node that follows the job-events gossip."""
        if self.follow_gossip:
            return
        async with self._refresh_lock:
            started = trio.current_time()
            if started - self._refreshed_at < REFRESH_EVERY:
                return
            async with trio.open_nursery() as nursery:
                for peer in self._orchestrators():
                    if peer != self.node_id:
                        nursery.start_soon(self.sync_from, peer, REFRESH_TIMEOUT)
            self._refreshed_at = started

    # -- publishing ------------------------------------------------------

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            await trio.sleep(COALESCE)
            self._wake = trio.Event()
            batch, self._dirty = list(self._dirty.values()), {}
            for chunk in _chunks(batch):
                try:
                    await self.gossip.publish(
                        JOB_EVENTS, JobEvents(RequesterID=self.node_id, Jobs=chunk)
                    )
                except Exception:
                    log.warning(
                        "could not publish %d job snapshots", len(chunk), exc_info=True
                    )

    # -- receiving -------------------------------------------------------

    def _on_gossip(self, sender: str, events: JobEvents) -> None:
        if sender == self.node_id:
            return
        try:
            self._incoming_send.send_nowait(events.Jobs)
        except trio.WouldBlock:
            log.warning(
                "job-events backlog full; %d snapshots left to sync", len(events.Jobs)
            )

    async def _store_loop(self) -> None:
        while True:
            batch = await self._incoming.receive()
            while True:
                try:
                    batch = batch + self._incoming.receive_nowait()
                except trio.WouldBlock:
                    break
            await self.store.put_snapshots(batch)

    # -- sync ------------------------------------------------------------

    async def _on_sync(self, _peer: str, request: SyncRequest) -> SyncResponse:
        jobs, more = await self.store.call(
            self.store.sync.owned_jobs_since, request.Since, request.Limit
        )
        light = [s.model_copy(update={"History": []}) for s in jobs]
        return SyncResponse(Jobs=light, More=more)

    async def _on_history(self, _peer: str, request: HistoryRequest) -> HistoryResponse:
        owner = await self.store.call(self.store.sync.requester_of, request.JobID)
        if owner != self.node_id:
            raise HandlerError("not_found", f"{request.JobID} is not owned here")
        return HistoryResponse(Items=await self.store.history(request.JobID))

    async def history(self, job_id: str) -> list[JobHistory]:
        """A job's history, from its owner (or what this node has, if the
        owner cannot be reached)."""
        owner = await self.store.call(self.store.sync.requester_of, job_id)
        if owner is not None and owner != self.node_id:
            try:
                answer = await self.rpc.call(
                    owner, HISTORY, HistoryRequest(JobID=job_id), timeout=5
                )
            except P2PError as exc:
                log.info("history of %s from its owner failed: %s", job_id, exc)
            else:
                return answer.Items
        return await self.store.history(job_id)

    async def _sync_loop(self) -> None:
        while True:
            with trio.move_on_after(SYNC_INTERVAL):
                await self._sync_now.wait()
            self._sync_now = trio.Event()
            for peer in self._orchestrators():
                if peer != self.node_id:
                    await self.sync_from(peer)

    async def sync_from(self, peer: str, timeout: float = 10) -> None:
        """Pull every snapshot `peer` owns that changed since the last pull."""
        since = self._synced.get(peer, 0)
        while True:
            try:
                answer = await self.rpc.call(
                    peer, SYNC, SyncRequest(Since=since), timeout=timeout
                )
            except P2PError as exc:
                log.debug("sync from %s failed: %s", peer, exc)
                return
            if answer.Jobs:
                await self.store.put_snapshots(answer.Jobs)
                since = max(since, *(s.Job.ModifyTime for s in answer.Jobs))
                self._synced[peer] = since
            if not answer.More:
                return


def _chunks(snapshots: list[JobSnapshot]) -> list[list[JobSnapshot]]:
    chunks: list[list[JobSnapshot]] = []
    current: list[JobSnapshot] = []
    size = 0
    for snap in snapshots:
        estimate = _estimate(snap)
        if current and (size + estimate > MAX_MESSAGE_BYTES or len(current) >= 128):
            chunks.append(current)
            current, size = [], 0
        current.append(snap)
        size += estimate
    if current:
        chunks.append(current)
    return chunks


def _estimate(snap: JobSnapshot) -> int:
    output = sum(
        len(e.RunOutput.Stdout) + len(e.RunOutput.STDERR)
        for e in snap.Executions
        if e.RunOutput is not None
    )
    return 4096 + 600 * len(snap.History) + output
