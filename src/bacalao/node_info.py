"""What a node says about itself: its machine's capacity and its `NodeInfo`.

`machine_capacity(config)` probes the CPUs, physical memory and free disk
of this machine (the operator's `max_*` settings win); `describe_node`
builds the `NodeInfo` the announcer gossips and the API serves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .config import NodeConfig
from .models.node import MAX_PEERS_SHOWN, ComputeNodeInfo, NodeInfo
from .models.resources import Resources
from .version import build_version

if TYPE_CHECKING:
    from .compute.service import Compute

MEMORY_SHARE = 0.8  # of physical memory offered to tasks by default
UNKNOWN_MEMORY = 4 * 1024**3


def machine_capacity(config: NodeConfig) -> Resources:
    """What this machine offers to tasks: the operator's limits, else probed."""
    cpus = float(os.cpu_count() or 1)
    return Resources(
        CPU=config.max_cpu if config.max_cpu is not None else cpus,
        Memory=config.max_memory
        if config.max_memory is not None
        else int(physical_memory() * MEMORY_SHARE),
        Disk=config.max_disk if config.max_disk is not None else free_disk(config.repo),
        GPU=config.gpus or 0,
    )


def physical_memory() -> int:
    """Bytes of RAM (4 GiB when the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return UNKNOWN_MEMORY


def free_disk(path: Path) -> int:
    """Bytes free to an unprivileged user on the disk holding `path` (0 if unknown)."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return 0
    return stat.f_bavail * stat.f_frsize


def describe_node(
    node_id: str,
    config: NodeConfig,
    compute: Compute | None,
    *,
    addresses: list[str],
    api_url: str,
    orchestrator: bool,
    held: Callable[[], list[str]],
    peers: Sequence[str] = (),
) -> NodeInfo:
    """The node's `NodeInfo` now: what it runs, what it has free, where it is."""
    compute_info = None
    if compute is not None:
        snap = compute.capacity.snapshot()
        compute_info = ComputeNodeInfo(
            ExecutionEngines=sorted(compute.offer.engines),
            Publishers=sorted(compute.offer.publishers),
            StorageSources=sorted(compute.offer.storage),
            MaxCapacity=snap.total,
            QueueCapacity=snap.queued,
            AvailableCapacity=snap.available,
            MaxJobRequirements=snap.total,
            RunningExecutions=snap.running,
            EnqueuedExecutions=snap.enqueued,
            NetworkTypes=list(config.docker_network_modes),
        )
    return NodeInfo(
        NodeID=node_id,
        NodeType="Compute" if compute_info is not None else "Requester",
        Labels=dict(config.labels),
        ComputeNodeInfo=compute_info,
        BacalhauVersion=build_version(),
        Addresses=addresses,
        ApiAddress=api_url,
        Orchestrator=orchestrator,
        HeldCIDs=held() if compute_info is not None else [],
        # for the dashboard's picture of the swarm; signed with the rest
        ConnectedPeers=list(peers)[:MAX_PEERS_SHOWN],
    )


__all__ = ["describe_node", "free_disk", "machine_capacity", "physical_memory"]
