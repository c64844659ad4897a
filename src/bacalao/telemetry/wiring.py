"""How node.py attaches the metrics to the parts of a node.

`node_metrics()` makes the node's `NodeMetrics`, knowing the engine,
input-source and publisher names of this build (the only values those
labels take). `watch_swarm` and `watch_store` point the live readings and
the p2p and store hooks at it; `observed_compute` builds the compute
node's executors, execution store and capacity account in their observed
forms. Tracing (`tracing.py`) shares the same seams: the compute parts
mark a `Timeline`, the requester's spans come from `walk.JobTracer`.
"""

from __future__ import annotations

from pathlib import Path

from ..compute.capacity import Capacity
from ..compute.executions import LocalExecutions
from ..executors.base import Executor
from ..executors.registry import engine_names
from ..jobstore import JobStore
from ..models.resources import Resources
from ..p2p.host import Swarm
from ..protocol import HEALTH, JOB_EVENTS, NODE_INFO, OPEN_CALLS
from ..publishers import registry as publishers
from ..storage import registry as sources
from .compute import ObservedExecutions, TimedCapacity, observed
from .metrics import NodeMetrics
from .timeline import Timeline
from .tracing import Tracing


def node_metrics() -> NodeMetrics:
    """A node's metrics, in a registry of its own."""
    return NodeMetrics(known=(*engine_names(), *sources.names(), *publishers.names()))


def watch_swarm(metrics: NodeMetrics, swarm: Swarm) -> None:
    """Peers, gossip traffic per topic and RPC latency of `swarm`."""
    stats = swarm.gossip.stats
    metrics.live.peers = lambda: len(swarm.connected_peers())
    metrics.live.gossip = lambda: (
        stats.published_by_topic,
        stats.delivered_by_topic,
        stats.invalid_by_topic,
    )
    metrics.live.topics = tuple(
        t.name for t in (NODE_INFO, HEALTH, OPEN_CALLS, JOB_EVENTS)
    )
    swarm.rpc.on_call = metrics.rpc_called


def watch_store(metrics: NodeMetrics, store: JobStore) -> None:
    """The job store's write batches."""
    store.on_commit = metrics.store_committed


def observed_compute(
    metrics: NodeMetrics,
    tracing: Tracing,
    executors: dict[str, Executor],
    store_path: Path,
    total: Resources,
    max_queued: int,
) -> tuple[dict[str, Executor], LocalExecutions, Capacity]:
    """The compute part's executors, execution store and capacity, observed
    (metrics, and trace spans when `tracing` is on)."""
    timeline = Timeline(tracing)
    capacity = TimedCapacity(
        total, max_queued=max_queued, metrics=metrics, timeline=timeline
    )

    def queue() -> tuple[int, int]:
        snap = capacity.snapshot()
        return snap.enqueued, snap.running

    metrics.live.queue = queue
    store = ObservedExecutions(str(store_path), metrics, timeline)
    return observed(executors, metrics, timeline), store, capacity
