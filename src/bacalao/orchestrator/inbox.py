"""What reaches a job's task, and the per-job mailboxes that carry it.

Everything that concerns one job (bid answers, execution updates, lost
nodes, a stop request, a change in the node set) is a message in that
job's inbox, handled in order by the job's own task: a job's state has one
writer and needs no locks. A sender may wait until its message has been
handled (and its change stored).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import trio

from ..models.wire import Bid, ExecutionUpdate

log = logging.getLogger(__name__)

INBOX_SIZE = 1024


@dataclass(frozen=True)
class BidAnswered:
    execution_id: str
    bid: Bid | None
    error: str = ""


@dataclass
class Updated:
    """An execution update; `refused` gets a reason if it is not taken."""

    update: ExecutionUpdate
    handled: bool = False
    refused: str = ""


@dataclass(frozen=True)
class NodeLost:
    node_id: str
    reason: str


@dataclass(frozen=True)
class NodesChanged:
    pass


@dataclass(frozen=True)
class DeliveryFailed:
    execution_id: str
    reason: str


@dataclass
class StopRequested:
    reason: str
    result: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Superseded:
    """A new version of the job replaces the one being driven."""

    version: int


Message = (
    BidAnswered
    | Updated
    | NodeLost
    | NodesChanged
    | DeliveryFailed
    | StopRequested
    | Superseded
)
Envelope = tuple[Message, trio.Event | None]


class Inboxes:
    """One bounded inbox per active job."""

    def __init__(self) -> None:
        self._sends: dict[str, trio.MemorySendChannel[Envelope]] = {}
        self._ended: dict[str, trio.Event] = {}  # set when the job's task ends

    def open(self, job_id: str) -> trio.MemoryReceiveChannel[Envelope]:
        send, receive = trio.open_memory_channel[Envelope](INBOX_SIZE)
        self._sends[job_id] = send
        self._ended[job_id] = trio.Event()
        return receive

    async def ended(self, job_id: str) -> None:
        """Wait until the task of `job_id` has ended (at once if it has)."""
        event = self._ended.get(job_id)
        if event is not None:
            await event.wait()

    def close(self, job_id: str, receive: trio.MemoryReceiveChannel[Envelope]) -> None:
        """The job's task has ended: wake whoever waits on a message it
        will never handle."""
        send = self._sends.pop(job_id, None)
        if send is not None:
            send.close()
        ended = self._ended.pop(job_id, None)
        if ended is not None:
            ended.set()
        while True:
            try:
                _message, done = receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            if done is not None:
                done.set()

    async def deliver(
        self, job_id: str, message: Message, *, wait: bool = False
    ) -> bool:
        """Hand `message` to the job's task (with `wait`, until handled);
        False if the job has no task here."""
        send = self._sends.get(job_id)
        if send is None:
            return False
        done = trio.Event() if wait else None
        try:
            await send.send((message, done))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
        if done is not None:
            await done.wait()
        return True

    def post(self, job_id: str, message: Message) -> None:
        """Hand over without waiting; dropped (and logged) if the inbox is full."""
        send = self._sends.get(job_id)
        if send is None:
            return
        try:
            send.send_nowait((message, None))
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            log.warning("inbox of job %s is full; dropped %s", job_id, message)
