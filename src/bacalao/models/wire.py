"""Messages nodes send each other: gossip payloads and direct-stream RPCs.

Gossip (lossy, signed, idempotent — each message supersedes the last):
    SignedNodeInfo    node-info topic: what a node offers (models.node),
                      signed by that node so that others may relay it
    Heartbeat         health topic: "I am alive; next one within Interval s"
    OpenCall          open-calls topic: a requester that knows no node able
                      to run a job asks every node that can to answer
    JobEvents         job-events topic: full snapshots of changed jobs

Direct streams (reliable: persisted, acknowledged, retried):
    AskBid  -> Bid            requester asks a compute node to bid; a node
                              that accepts has started (or queued) the task
    OpenCallAnswer -> Ack     a compute node answers an OpenCall: it can run
                              the job (the requester then asks it to bid)
    CancelExecution -> Ack    requester stops an execution
    ExecutionUpdates -> UpdatesAnswer  compute reports state changes and results
    SyncRequest -> SyncResponse   a late joiner pulls job snapshots
    NodesRequest -> NodesResponse a joining node pulls a peer's node table
    HistoryRequest -> HistoryResponse  a job's history, from its owner
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PrivateAttr

from .base import WireModel
from .execution import Execution, RunCommandResult
from .history import JobHistory
from .job import Job, SpecConfig
from .node import NodeInfo
from .states import ExecutionStateType

MAX_BATCH = 256


class Heartbeat(WireModel):
    """I am alive; expect the next one within `Interval` seconds. `Known` is
    how many nodes the sender knows of: a receiver that knows fewer asks it
    for its node table."""

    NodeID: str
    Seq: int = 0
    Interval: float = Field(1.0, gt=0, le=3600)
    Known: int = Field(0, ge=0)


class SignedNodeInfo(WireModel):
    """A node's info as that node signed it, so other nodes can pass it on
    (node tables) and everyone can check it (see signed_info.py).

    `Payload` is the NodeInfo JSON exactly as signed; `Signature` the
    base64 ed25519 signature of its UTF-8 bytes by the key of its NodeID.
    """

    Payload: str = Field(max_length=1024 * 1024)
    Signature: str = Field(max_length=256)
    _info: NodeInfo | None = PrivateAttr(default=None)


class NodesRequest(WireModel):
    """Ask a peer for every node it knows (a joining node's first step);
    `Self` introduces the asker, so the peer knows it at once."""

    Self: SignedNodeInfo | None = None


class NodesResponse(WireModel):
    """Every node the peer knows, each as signed by that node."""

    LIMIT: ClassVar[int] = 10_000
    Nodes: list[SignedNodeInfo] = Field(default_factory=list, max_length=10_000)


class OpenCall(WireModel):
    """An open call for bids: a requester that knows no node able to run
    `Job` asks every node that can to answer it (`OpenCallAnswer`)."""

    RequesterID: str
    Job: Job


_Job = Job  # `JobSnapshot.Job` hides the name in the class body


class JobSnapshot(WireModel):
    """Everything the shared view holds of one job, versioned by Revision."""

    RequesterID: str
    Job: Job
    Executions: list[Execution] = Field(default_factory=list)
    History: list[JobHistory] = Field(default_factory=list)
    # earlier versions of the job, oldest first: sent by state sync (not
    # gossip), so a replica that missed a version while it lasted gets it
    Versions: list[_Job] = Field(default_factory=list)


class JobEvents(WireModel):
    """A batch of job snapshots published by the requester that owns them.
    `Changed` names jobs whose snapshots are too big for gossip: receivers
    pull those from the requester (SyncRequest.JobIDs)."""

    RequesterID: str
    Jobs: list[JobSnapshot] = Field(default_factory=list, max_length=MAX_BATCH)
    Changed: list[str] = Field(default_factory=list, max_length=MAX_BATCH)


class Ack(WireModel):
    """An empty acknowledgement."""


class AskBid(WireModel):
    """Would you run this execution? `Execution.Job` holds the whole job."""

    Execution: Execution
    RequesterID: str


class Bid(WireModel):
    """A compute node's answer to AskBid."""

    ExecutionID: str
    Accepted: bool
    Reason: str = ""
    NodeID: str = ""


class OpenCallAnswer(WireModel):
    """A compute node's answer to an OpenCall: it can run the job; its info."""

    JobID: str
    Info: NodeInfo


class CancelExecution(WireModel):
    ExecutionID: str
    JobID: str
    Reason: str = ""


class ExecutionUpdate(WireModel):
    """A compute node's report of an execution's new state."""

    ExecutionID: str
    JobID: str
    NodeID: str
    State: ExecutionStateType
    Message: str = ""
    RunOutput: RunCommandResult | None = None
    PublishedResult: SpecConfig | None = None
    Details: dict[str, str] = Field(default_factory=dict)


class ExecutionUpdates(WireModel):
    """Several updates to one requester in one call, in the order made."""

    LIMIT: ClassVar[int] = 256

    Updates: list[ExecutionUpdate] = Field(min_length=1, max_length=LIMIT)


class UpdatesAnswer(WireModel):
    """The requester stored every update of the call but those it `Refused`
    (execution ID -> why: an unknown job or execution, or one that was not
    given to the sender). A call it cannot take yet fails as unavailable."""

    Refused: dict[str, str] = Field(default_factory=dict)


class ExecutionsAlive(WireModel):
    """A compute node's lease renewal: the executions of this requester it
    still holds (queued, running or publishing)."""

    LIMIT: ClassVar[int] = 10_000

    ExecutionIDs: list[str] = Field(default_factory=list, max_length=LIMIT)


class LeaseAnswer(WireModel):
    """Executions of the renewal that have ended on the requester's side."""

    Ended: list[str] = Field(default_factory=list)


class HistoryRequest(WireModel):
    """Ask the requester that owns a job for its history."""

    JobID: str


class HistoryResponse(WireModel):
    Items: list[JobHistory] = Field(default_factory=list)


class LogsRequest(WireModel):
    """Ask the node that ran an execution for its output lines."""

    ExecutionID: str
    Follow: bool = False
    Tail: bool = False


class LogChunk(WireModel):
    """One line of output: Type 1 is stdout, 2 is stderr (Bacalhau's ExecutionLog)."""

    Type: int = Field(ge=0, le=2)
    Line: str


class SyncRequest(WireModel):
    """Ask a peer for the job snapshots it owns, changed after `Since` (ns),
    or, with `JobIDs`, for those jobs' snapshots."""

    Since: int = Field(0, ge=0, le=2**63 - 1)
    Limit: int = Field(100, ge=1, le=MAX_BATCH)
    JobIDs: list[str] = Field(default_factory=list, max_length=MAX_BATCH)


class SyncResponse(WireModel):
    Jobs: list[JobSnapshot] = Field(default_factory=list)
    More: bool = False
