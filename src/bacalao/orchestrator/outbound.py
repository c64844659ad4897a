"""What the orchestrator sends: asks for bids, cancels, open calls.

The orchestrator does not hold the whole RPC layer or gossip: it gets an
`Outbound`, built over two small interfaces (p2p/interfaces.py), so a test
can hand it fakes. Each send handles its own retries and reports its outcome to the
job's inbox (a bid answer), or logs it (a cancel a node never heard).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import trio

from ..models.execution import Execution
from ..models.job import Job
from ..models.wire import AskBid, Bid, CancelExecution, OpenCall
from ..p2p.exceptions import P2PError, RemoteError
from ..p2p.interfaces import Broadcast, Calls
from ..protocol import ASK_BID, CANCEL, OPEN_CALLS
from .inbox import BidAnswered, Inboxes

log = logging.getLogger(__name__)

BID_ASKS = 5  # asks of one execution whose answers time out, before it fails
BID_ASK_BACKOFF = 0.5  # before the second ask; doubles, up to 4 s
OPEN_CALL_EVERY = 2.0  # per job
OPEN_CALL_GAP = 0.5  # between any two open calls of this orchestrator


class Outbound:
    """Sends on behalf of the orchestrator whose node is `node_id`."""

    def __init__(
        self,
        node_id: str,
        calls: Calls,
        broadcast: Broadcast,
        inboxes: Inboxes,
        *,
        bid_timeout: float,
        is_lost: Callable[[str], bool],
        on_answer: Callable[[str], None],
    ) -> None:
        self.node_id = node_id
        self.calls = calls
        self._broadcast = broadcast
        self._inboxes = inboxes
        self._bid_timeout = bid_timeout
        self._is_lost = is_lost
        self._on_answer = on_answer  # a node answered: it is alive
        self._open_calls: dict[str, float] = {}
        self._last_open_call = -math.inf

    async def ask_bid(self, job: Job, execution: Execution) -> None:
        """Ask the execution's node to bid; its answer goes to the job's inbox."""
        request = AskBid(
            Execution=execution.model_copy(update={"Job": job}),
            RequesterID=self.node_id,
        )
        bid: Bid | None = None
        for ask in range(1, BID_ASKS + 1):
            try:
                bid = await self.calls.call(
                    execution.NodeID, ASK_BID, request, timeout=self._bid_timeout
                )
                break
            except P2PError as exc:
                # A slow or unreachable node is not a refusal, and it may have
                # had the ask and be running the job already (a requester that
                # restarts asks again before its connections are back):
                # failing this execution would place the job again, to run
                # twice. Asking again is idempotent; a considered answer, or
                # the node's loss, ends it.
                if (
                    (isinstance(exc, RemoteError) and exc.code != "unavailable")
                    or ask == BID_ASKS
                    or self._is_lost(execution.NodeID)
                ):
                    self._inboxes.post(
                        job.ID, BidAnswered(execution.ID, None, str(exc))
                    )
                    return
            await trio.sleep(min(BID_ASK_BACKOFF * 2 ** (ask - 1), 4.0))
        self._on_answer(execution.NodeID)
        self._inboxes.post(job.ID, BidAnswered(execution.ID, bid))

    async def cancel(self, execution: Execution, reason: str) -> None:
        request = CancelExecution(
            ExecutionID=execution.ID, JobID=execution.JobID, Reason=reason
        )
        try:
            await self.calls.call_with_retry(
                execution.NodeID, CANCEL, request, timeout=5, attempts=5
            )
        except P2PError as exc:
            log.info(
                "could not cancel %s on %s: %s", execution.ID, execution.NodeID, exc
            )

    async def open_call(self, job: Job) -> None:
        """Ask the whole network who can run `job`, beyond the nodes we know."""
        now = trio.current_time()
        if now - self._open_calls.get(job.ID, -math.inf) < OPEN_CALL_EVERY:
            return
        # One call on the topic reaches every node; with thousands of jobs
        # queued, one per job would flood the network for nothing new.
        if now - self._last_open_call < OPEN_CALL_GAP:
            return
        self._last_open_call = now
        self._open_calls[job.ID] = now
        try:
            await self._broadcast.publish(
                OPEN_CALLS, OpenCall(RequesterID=self.node_id, Job=job)
            )
        except Exception:
            log.debug("open call for %s not published", job.ID, exc_info=True)

    def forget(self, job_id: str) -> None:
        self._open_calls.pop(job_id, None)
