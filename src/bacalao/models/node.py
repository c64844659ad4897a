"""Nodes as the network sees them: what they offer and whether they are up."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .base import WireModel
from .history import utcnow
from .resources import Resources

MAX_PEERS_SHOWN = 64  # connected peers a node names in its info

NodeTypeName = Literal["Requester", "Compute", "Hybrid"]
MembershipName = Literal["PENDING", "APPROVED", "REJECTED"]
ConnectionName = Literal["CONNECTED", "DISCONNECTED"]


class BuildVersionInfo(WireModel):
    """The version a node or client was built as."""

    Major: str = ""
    Minor: str = ""
    GitVersion: str = ""
    GitCommit: str = ""
    BuildDate: datetime = Field(default_factory=utcnow)
    GOOS: str = "linux"
    GOARCH: str = "amd64"


class ComputeNodeInfo(WireModel):
    """What a compute node can run, and how much room it has left."""

    ExecutionEngines: list[str] = Field(default_factory=list)
    Publishers: list[str] = Field(default_factory=list)
    StorageSources: list[str] = Field(default_factory=list)
    MaxCapacity: Resources = Field(default_factory=Resources)
    QueueCapacity: Resources = Field(default_factory=Resources)
    AvailableCapacity: Resources = Field(default_factory=Resources)
    MaxJobRequirements: Resources = Field(default_factory=Resources)
    RunningExecutions: int = 0
    EnqueuedExecutions: int = 0
    NetworkTypes: list[str] = Field(default_factory=list)


_ComputeNodeInfo = ComputeNodeInfo


class NodeInfo(WireModel):
    """A node's self-description, gossiped on the node-info topic."""

    NodeID: str
    NodeType: NodeTypeName = "Compute"
    Labels: dict[str, str] = Field(default_factory=dict)
    SupportedProtocols: list[str] = Field(default_factory=lambda: ["libp2p"])
    ComputeNodeInfo: _ComputeNodeInfo | None = None
    BacalhauVersion: BuildVersionInfo = Field(default_factory=BuildVersionInfo)
    Addresses: list[str] = Field(default_factory=list)
    ApiAddress: str = ""
    Orchestrator: bool = True
    Seq: int = 0
    # CIDs this node most recently pinned (bacalao's own: data locality)
    HeldCIDs: list[str] = Field(default_factory=list, max_length=256)
    # peer IDs this node holds a connection to (bacalao's own: the swarm's
    # picture in the dashboard); signed with the rest, so only for itself
    ConnectedPeers: list[str] = Field(default_factory=list, max_length=MAX_PEERS_SHOWN)

    @property
    def is_compute(self) -> bool:
        return self.ComputeNodeInfo is not None


class ConnectionState(WireModel):
    Status: ConnectionName = "CONNECTED"
    LastHeartbeat: datetime = Field(default_factory=utcnow)
    ConnectedSince: datetime = Field(default_factory=utcnow)
    DisconnectedSince: datetime | None = None
    LastError: str = ""


_ConnectionState = ConnectionState


class NodeState(WireModel):
    """A node as the API lists it: its info plus membership and liveness."""

    Info: NodeInfo
    Membership: MembershipName = "APPROVED"
    Connection: ConnectionName = "CONNECTED"
    ConnectionState: _ConnectionState = Field(default_factory=_ConnectionState)
