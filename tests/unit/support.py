"""Small builders shared by the unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from libp2p.crypto.ed25519 import create_new_key_pair

from bacalao.models.job import Job
from bacalao.models.node import ComputeNodeInfo, NodeInfo
from bacalao.models.resources import Resources
from bacalao.models.wire import SignedNodeInfo
from bacalao.network.signed_info import seal
from bacalao.p2p.identity import peer_id_of, sign

GiB = 1024**3


def make_job(
    engine: str = "noop", params: dict[str, Any] | None = None, **fields: Any
) -> Job:
    """A minimal valid job; `task=` entries are merged into its one task."""
    task: dict[str, Any] = {"Engine": {"Type": engine, "Params": params or {}}}
    task.update(fields.pop("task", {}))
    return Job.model_validate({"Tasks": [task], **fields})


def make_node(
    node_id: str,
    *,
    engines: tuple[str, ...] = ("docker", "wasm", "noop"),
    publishers: tuple[str, ...] = ("ipfs", "local", "noop"),
    storage: tuple[str, ...] = ("inline", "urlDownload"),
    cpu: float = 4.0,
    free_cpu: float | None = None,
    memory: int = 8 * GiB,
    labels: dict[str, str] | None = None,
    compute: bool = True,
    **info: Any,
) -> NodeInfo:
    capacity = Resources(CPU=cpu, Memory=memory, Disk=100 * GiB)
    available = capacity.model_copy(
        update={"CPU": cpu if free_cpu is None else free_cpu}
    )
    compute_info = ComputeNodeInfo(
        ExecutionEngines=list(engines),
        Publishers=list(publishers),
        StorageSources=list(storage),
        MaxCapacity=capacity,
        AvailableCapacity=available,
    )
    return NodeInfo(
        NodeID=node_id,
        Labels=labels or {},
        ComputeNodeInfo=compute_info if compute else None,
        **info,
    )


@dataclass(frozen=True)
class Peer:
    """A real identity for tests: its peer ID and a signer with its key."""

    id: str
    sign: Callable[[bytes], bytes]


@cache
def peer(name: str) -> Peer:
    """The same real ed25519 identity for the same `name`, every time."""
    pair = create_new_key_pair(hashlib.sha256(name.encode()).digest())
    return Peer(peer_id_of(pair), lambda data: sign(pair, data))


def signed_node(who: Peer, **fields: Any) -> SignedNodeInfo:
    """`make_node` info of `who`, sealed by its own key."""
    return seal(make_node(who.id, **fields), who.sign)
