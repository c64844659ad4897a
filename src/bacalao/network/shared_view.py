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
supersedes the last, so repeats and reordering are harmless. A snapshot
too big for a gossip message is announced by job ID only, and receivers
pull it over the sync RPC (whose frames are far larger).

Only a job's owner speaks for it. Job IDs are bound to their requester
(`ids.bound_job_id`: the ID is a hash of the requester's peer ID and a
nonce kept in the job's Meta), a snapshot must come from the peer it names
as requester (the gossip signature or the RPC's authenticated stream says
who sent it), and a store binds each job to the first requester it saw
for it. Refused snapshots are counted (`refused`), never stored.

A node without an orchestrator (a compute-only node) does not follow the
job-events topic at all: it would spend a share of its CPU decoding and
storing every job of the network while running a few of them. It pulls
instead, over the same sync RPC, when its API is asked about jobs
(`refresh`), so it still answers for every job, and every quarter second
while someone watches its event stream (`watched`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import trio

from ..jobstore import JobStore, StorageUnavailable, StoreError
from ..models.execution import RunCommandResult
from ..models.history import JobHistory
from ..models.ids import bound_job_id
from ..models.job import META_JOB_NONCE
from ..models.wire import (
    HistoryRequest,
    HistoryResponse,
    JobEvents,
    JobSnapshot,
    SyncRequest,
    SyncResponse,
)
from ..orchestrator.record import JobRecord
from ..p2p.exceptions import P2PError
from ..p2p.gossip import Gossip
from ..p2p.rpc import HandlerError, Rpc
from ..protocol import HISTORY, JOB_EVENTS, SYNC

log = logging.getLogger(__name__)

COALESCE = 0.25
MAX_MESSAGE_BYTES = 512 * 1024  # of a gossip batch (py-libp2p's limit: 1 MiB)
SYNC_PAGE_BYTES = 8 * 1024 * 1024  # of a sync answer (RPC frames: 16 MiB)
SYNC_INTERVAL = 30.0
REFRESH_EVERY = 0.1  # pull mode: readers within this window share one pull
REFRESH_TIMEOUT = 3.0
WATCHED_PULL_EVERY = 0.25  # pull mode: how often replicas are pulled while watched


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
        on_replica: Callable[[JobSnapshot], None] | None = None,
        watched: Callable[[], bool] = lambda: False,
    ) -> None:
        self.node_id = node_id
        self._on_replica = on_replica
        self._watched = watched
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
        self._wanted: dict[str, set[str]] = {}  # requester -> jobs to pull
        self._pull_now = trio.Event()
        self.refused = 0  # snapshots refused for who sent them
        self._spec_bytes: dict[str, int] = {}  # of active jobs we own
        rpc.register(SYNC, self._on_sync)
        rpc.register(HISTORY, self._on_history)

    def job_changed(self, record: JobRecord) -> None:
        """Queue a snapshot of `record` for publishing."""
        if record.job.ID not in self._spec_bytes:  # measured once per job
            self._spec_bytes[record.job.ID] = len(record.job.model_dump_json())
        executions = {e.ID: e.model_copy() for e in record.executions.values()}
        replaced = self._dirty.get(record.job.ID)
        earlier = []
        if replaced is not None:
            # a new version's record no longer holds the old version's
            # executions: keep the last changes to those it coalesces over
            executions = {e.ID: e for e in replaced.Executions} | executions
            # nor the old version itself, which a replica may never have seen
            earlier = list(replaced.Versions)
            if replaced.Job.Version < record.job.Version:
                earlier.append(replaced.Job)
        self._dirty[record.job.ID] = JobSnapshot(
            RequesterID=self.node_id,
            Job=record.job.model_copy(),
            Executions=list(executions.values()),
            Versions=earlier,
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
                nursery.start_soon(self._pull_loop)
            else:
                nursery.start_soon(self._pull_while_watched)
            task_status.started()

    async def _pull_while_watched(self) -> None:
        """Pull mode: keep the replicas fresh while event streams watch them."""
        while True:
            if self._watched():
                await self.refresh()
            await trio.sleep(WATCHED_PULL_EVERY)

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
            sizes = {s.Job.ID: self._estimate_own(s) for s in batch}
            for snap in batch:  # an ended job changes no more
                if snap.Job.State.StateType.terminal:
                    self._spec_bytes.pop(snap.Job.ID, None)
            small = [s for s in batch if sizes[s.Job.ID] <= MAX_MESSAGE_BYTES]
            big = [s.Job.ID for s in batch if sizes[s.Job.ID] > MAX_MESSAGE_BYTES]
            for chunk, changed in _messages(small, big, sizes):
                try:
                    await self.gossip.publish(
                        JOB_EVENTS,
                        JobEvents(
                            RequesterID=self.node_id, Jobs=chunk, Changed=changed
                        ),
                    )
                except Exception:
                    log.warning(
                        "could not publish %d job snapshots", len(chunk), exc_info=True
                    )

    # -- receiving -------------------------------------------------------

    def _estimate_own(self, snap: JobSnapshot) -> int:
        spec = self._spec_bytes.get(snap.Job.ID)
        return _estimate(snap) if spec is None else _estimate(snap, spec)

    def _on_gossip(self, sender: str, events: JobEvents) -> None:
        if sender == self.node_id:
            return
        jobs = self._accepted(sender, events.Jobs)
        if events.Changed:
            self._wanted.setdefault(sender, set()).update(events.Changed)
            self._pull_now.set()
        try:
            self._incoming_send.send_nowait(jobs)
        except trio.WouldBlock:
            log.warning("job-events backlog full; %d snapshots left to sync", len(jobs))

    def _accepted(self, sender: str, snaps: list[JobSnapshot]) -> list[JobSnapshot]:
        """The snapshots `sender` may speak for; the others are counted."""
        good = [s for s in snaps if snapshot_refusal(s, sender) is None]
        if len(good) < len(snaps):
            self.refused += len(snaps) - len(good)
            log.info(
                "refused %d job snapshots from %s: %s",
                len(snaps) - len(good),
                sender,
                next(r for s in snaps if (r := snapshot_refusal(s, sender))),
            )
        return good

    async def _store_loop(self) -> None:
        while True:
            batch = await self._incoming.receive()
            while True:
                try:
                    batch = batch + self._incoming.receive_nowait()
                except trio.WouldBlock:
                    break
            await self._store(batch)

    async def _store(self, snaps: list[JobSnapshot]) -> bool:
        """Keep replicas; False if the store cannot take them now (a later
        sync brings them again)."""
        try:
            changed = await self.store.put_snapshots(snaps)
        except (StorageUnavailable, StoreError) as exc:
            log.warning("%d job snapshots not stored: %s", len(snaps), exc)
            self._synced.clear()  # pull everything again once it works
            return False
        if self._on_replica is not None and changed:
            newest: dict[str, JobSnapshot] = {}
            for snap in snaps:
                known = newest.get(snap.Job.ID)
                if known is None or snap.Job.Revision > known.Job.Revision:
                    newest[snap.Job.ID] = snap
            for job_id in dict.fromkeys(changed):
                self._on_replica(newest[job_id])
        return True

    async def _pull_loop(self) -> None:
        """Pull the snapshots announced as too big for gossip."""
        while True:
            await self._pull_now.wait()
            self._pull_now = trio.Event()
            wanted, self._wanted = self._wanted, {}
            for peer, job_ids in wanted.items():
                ids = sorted(job_ids)
                for start in range(0, len(ids), MAX_PULL):
                    request = SyncRequest(JobIDs=ids[start : start + MAX_PULL])
                    try:
                        answer = await self.rpc.call(peer, SYNC, request, timeout=10)
                    except P2PError as exc:
                        log.debug("pull of big snapshots from %s: %s", peer, exc)
                        break
                    await self._store(self._accepted(peer, answer.Jobs))

    # -- sync ------------------------------------------------------------

    async def _on_sync(self, _peer: str, request: SyncRequest) -> SyncResponse:
        if request.JobIDs:
            jobs = await self.store.owned_snapshots(request.JobIDs)
            more = False
        else:
            jobs, more = await self.store.owned_jobs_since(request.Since, request.Limit)
        light = [fit(s.model_copy(update={"History": []})) for s in jobs]
        page: list[JobSnapshot] = []
        size = 0
        for snap in light:  # whole ModifyTime groups, so Since stays exact
            size += _size(snap)
            if (
                page
                and size > SYNC_PAGE_BYTES
                and not request.JobIDs
                and snap.Job.ModifyTime != page[-1].Job.ModifyTime
            ):
                return SyncResponse(Jobs=page, More=True)
            page.append(snap)
        return SyncResponse(Jobs=page, More=more)

    async def _on_history(self, _peer: str, request: HistoryRequest) -> HistoryResponse:
        owner = await self.store.requester_of(request.JobID)
        if owner != self.node_id:
            raise HandlerError("not_found", f"{request.JobID} is not owned here")
        return HistoryResponse(Items=await self.store.history(request.JobID))

    async def history(self, job_id: str) -> list[JobHistory]:
        """A job's history, from its owner (or what this node has, if the
        owner cannot be reached)."""
        owner = await self.store.requester_of(job_id)
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
                if not await self._store(self._accepted(peer, answer.Jobs)):
                    return
                since = max(since, *(s.Job.ModifyTime for s in answer.Jobs))
                self._synced[peer] = since
            if not answer.More:
                return


MAX_PULL = 32  # jobs per pull of big snapshots
SNAPSHOT_MAX_BYTES = 12 * 1024 * 1024


def snapshot_refusal(snap: JobSnapshot, sender: str) -> str | None:
    """Why `sender` may not speak for `snap`, or None (no I/O)."""
    if snap.RequesterID != sender:
        return f"it names requester {snap.RequesterID}"
    job = snap.Job
    nonce = job.Meta.get(META_JOB_NONCE)
    if nonce is None or bound_job_id(sender, nonce) != job.ID:
        return f"job ID {job.ID} is not bound to its requester"
    if any(e.JobID != job.ID for e in snap.Executions):
        return f"it holds executions of other jobs than {job.ID}"
    if any(h.JobID != job.ID for h in snap.History):
        return f"it holds history of other jobs than {job.ID}"
    if any(v.ID != job.ID or v.Version >= job.Version for v in snap.Versions):
        return f"it holds versions of other jobs than {job.ID}, or later ones"
    return None


def fit(snap: JobSnapshot, limit: int = SNAPSHOT_MAX_BYTES) -> JobSnapshot:
    """`snap`, with the output texts of its oldest executions left out
    until it fits in `limit` bytes (it almost always fits as it is; the
    spec itself is bounded at submission)."""
    if _size(snap) <= limit:
        return snap
    executions = sorted(
        snap.Executions, key=lambda e: (e.state.name == "Completed", e.CreateTime)
    )
    kept = {e.ID: e for e in snap.Executions}
    for execution in executions:
        if _size(snap.model_copy(update={"Executions": list(kept.values())})) <= limit:
            break
        if execution.RunOutput is not None:
            kept[execution.ID] = execution.model_copy(
                update={"RunOutput": _without_text(execution.RunOutput)}
            )
    return snap.model_copy(update={"Executions": list(kept.values())})


def _without_text(output: RunCommandResult) -> RunCommandResult:
    return output.model_copy(
        update={
            "Stdout": "",
            "STDERR": "",
            "StdoutTruncated": True,
            "StderrTruncated": True,
        }
    )


def _messages(
    small: list[JobSnapshot], big: list[str], sizes: dict[str, int]
) -> list[tuple[list[JobSnapshot], list[str]]]:
    """Gossip messages: chunks of small snapshots, then the big ones' IDs."""
    messages: list[tuple[list[JobSnapshot], list[str]]] = [
        (chunk, []) for chunk in _chunks(small, sizes)
    ]
    for start in range(0, len(big), MAX_BATCH_IDS):
        messages.append(([], big[start : start + MAX_BATCH_IDS]))
    return messages


MAX_BATCH_IDS = 128


def _chunks(
    snapshots: list[JobSnapshot], sizes: dict[str, int]
) -> list[list[JobSnapshot]]:
    chunks: list[list[JobSnapshot]] = []
    current: list[JobSnapshot] = []
    size = 0
    for snap in snapshots:
        estimate = sizes.get(snap.Job.ID) or _estimate(snap)
        if current and (size + estimate > MAX_MESSAGE_BYTES or len(current) >= 128):
            chunks.append(current)
            current, size = [], 0
        current.append(snap)
        size += estimate
    if current:
        chunks.append(current)
    return chunks


def _estimate(snap: JobSnapshot, spec_bytes: int = 4096) -> int:
    """A bound on the snapshot's JSON size without encoding it (output
    text may take up to 6 bytes a character once escaped)."""
    output = sum(
        len(e.RunOutput.Stdout) + len(e.RunOutput.STDERR)
        for e in snap.Executions
        if e.RunOutput is not None
    )
    return (
        spec_bytes + 1500 * len(snap.Executions) + 600 * len(snap.History) + 6 * output
    )


def _size(snap: JobSnapshot) -> int:
    return len(snap.model_dump_json())
