"""The bacalao network protocol: gossip topics and direct-stream methods.

Everything two nodes say to each other is named here, with its model.
Protocol IDs carry a version so a future change can run beside this one.
"""

from __future__ import annotations

from .models.wire import (
    Ack,
    AskBid,
    Bid,
    CancelExecution,
    ExecutionsAlive,
    ExecutionUpdates,
    Heartbeat,
    HistoryRequest,
    HistoryResponse,
    JobEvents,
    LeaseAnswer,
    LogChunk,
    LogsRequest,
    NodesRequest,
    NodesResponse,
    OpenCall,
    OpenCallAnswer,
    SignedNodeInfo,
    SyncRequest,
    SyncResponse,
    UpdatesAnswer,
)
from .network.signed_info import sender_refusal
from .p2p.gossip import Topic
from .p2p.rpc import Method


def _sender_is(claimed: str, sender: str) -> str | None:
    return (
        None
        if claimed == sender
        else f"claims to be {claimed} but was sent by {sender}"
    )


NODE_INFO = Topic[SignedNodeInfo]("bacalao/node-info/2", SignedNodeInfo, sender_refusal)
HEALTH = Topic[Heartbeat](
    "bacalao/health/1", Heartbeat, lambda sender, m: _sender_is(m.NodeID, sender)
)
# a requester that knows no node able to run a job asks them all
OPEN_CALLS = Topic[OpenCall](
    "bacalao/open-calls/1",
    OpenCall,
    lambda sender, m: _sender_is(m.RequesterID, sender),
)
JOB_EVENTS = Topic[JobEvents](
    "bacalao/job-events/1",
    JobEvents,
    lambda sender, m: _sender_is(m.RequesterID, sender),
)

# requester -> compute
ASK_BID = Method("/bacalao/compute/ask-bid/1.0.0", AskBid, Bid)
CANCEL = Method("/bacalao/compute/cancel/1.0.0", CancelExecution, Ack)
LOGS = Method("/bacalao/compute/logs/1.0.0", LogsRequest, LogChunk)  # streaming
# compute -> requester
EXECUTION_UPDATES = Method(
    "/bacalao/requester/execution-updates/2.0.0", ExecutionUpdates, UpdatesAnswer
)
EXECUTIONS_ALIVE = Method(
    "/bacalao/requester/executions-alive/1.0.0", ExecutionsAlive, LeaseAnswer
)
OPEN_CALL_ANSWER = Method(
    "/bacalao/requester/open-call-answer/1.0.0", OpenCallAnswer, Ack
)
# any -> any
SYNC = Method("/bacalao/sync/1.0.0", SyncRequest, SyncResponse)
PING = Method("/bacalao/ping/1.0.0", Ack, Ack)
NODES = Method("/bacalao/nodes/1.0.0", NodesRequest, NodesResponse)
HISTORY = Method("/bacalao/history/1.0.0", HistoryRequest, HistoryResponse)
