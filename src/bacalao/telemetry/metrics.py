"""Every Prometheus metric a node exports, in one registry per node.

`NodeMetrics` owns the definitions; the rest of the node calls its small
named methods (`job_state`, `bid_answered`, `execution_ended`, ...) or
hands it a `LiveSources` that is read at scrape time (peers, gossip
counters, queue length). Several nodes run in one process in tests, so
nothing here touches prometheus_client's global default registry.

Label values are bounded: engines, topics, RPC methods, storage and
publisher types come from this node's own registries (names it does not
know are reported as `other`), bid reasons from `reasons.bid_reason`.
Never a job, execution or node ID.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# seconds: from a few ms (noop, wasm) to a long docker job
DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
)  # fmt: skip
RPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


@dataclass
class LiveSources:
    """Callables read at every scrape, for state the node already keeps.

    `gossip` returns (published by topic, delivered by topic, invalid by
    topic); `queue` returns (executions queued, executions running).
    """

    peers: Callable[[], int] = lambda: 0
    gossip: Callable[[], tuple[dict[str, int], dict[str, int], dict[str, int]]] = (
        lambda: ({}, {}, {})
    )
    queue: Callable[[], tuple[int, int]] | None = None
    topics: tuple[str, ...] = field(default_factory=tuple)


class _LiveCollector(Collector):
    """Turns `LiveSources` into metric families when scraped."""

    def __init__(self, live: LiveSources) -> None:
        self.live = live

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "bacalao_peers_connected",
            "libp2p peers this node holds a connection to",
            value=self.live.peers(),
        )
        published, delivered, invalid = self.live.gossip()
        for name, doc, counts in (
            ("out", "gossip messages this node published", published),
            ("in", "valid gossip messages delivered to this node", delivered),
            ("invalid", "gossip messages dropped as invalid", invalid),
        ):
            family = CounterMetricFamily(
                f"bacalao_gossip_messages_{name}", doc, labels=["topic"]
            )
            for topic in sorted(set(self.live.topics) | set(counts)):
                family.add_metric([topic], counts.get(topic, 0))
            yield family
        if self.live.queue is not None:
            queued, running = self.live.queue()
            yield GaugeMetricFamily(
                "bacalao_compute_queue_length",
                "accepted executions waiting for capacity on this compute node",
                value=queued,
            )
            yield GaugeMetricFamily(
                "bacalao_compute_executions_running",
                "executions holding capacity on this compute node",
                value=running,
            )


class NodeMetrics:
    """The metrics of one node and the calls that update them."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.live = LiveSources()
        self._known = {name.lower(): name for name in known}
        r = self.registry
        self.jobs = Gauge(
            "bacalao_jobs",
            "jobs this node owns as requester, by type and state",
            ["type", "state"],
            registry=r,
        )
        self.jobs_submitted = Counter(
            "bacalao_jobs_submitted",
            "jobs submitted to this node's orchestrator",
            ["type"],
            registry=r,
        )
        self.job_latency = Histogram(
            "bacalao_job_latency_seconds",
            "from a job's submission to its terminal state, on its requester",
            ["type", "state"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.bids = Counter(
            "bacalao_bids_answered",
            "bid asks answered, by outcome and (for declines) a bounded reason",
            ["outcome", "reason"],
            registry=r,
        )
        self.bids_asked = Counter(
            "bacalao_bids_asked", "bid asks sent by this requester", registry=r
        )
        self.executions_started = Counter(
            "bacalao_executions_started",
            "executions whose task this compute node started, by engine",
            ["engine"],
            registry=r,
        )
        self.executions_finished = Counter(
            "bacalao_executions_finished",
            "executions this compute node ended, by engine and final state",
            ["engine", "state"],
            registry=r,
        )
        self.execution_duration = Histogram(
            "bacalao_execution_duration_seconds",
            "how long the executor ran a task (staging and publishing excluded)",
            ["engine"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "bacalao_compute_queue_wait_seconds",
            "how long an accepted execution waited in the queue for capacity",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.rpc_latency = Histogram(
            "bacalao_rpc_latency_seconds",
            "round trip of an outgoing RPC call, by method and outcome",
            ["method", "outcome"],
            buckets=RPC_BUCKETS,
            registry=r,
        )
        self.store_commit = Histogram(
            "bacalao_store_commit_seconds",
            "one write batch (a transaction) of the job store",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        self.store_changes = Counter(
            "bacalao_store_changes_committed",
            "job changes written by the job store",
            registry=r,
        )
        self.data_bytes = Counter(
            "bacalao_data_bytes",
            "bytes staged by an input source or published by a publisher",
            ["direction", "type"],
            registry=r,
        )
        self.registry.register(_LiveCollector(self.live))

    def render(self) -> bytes:
        """The exposition text of every metric (Prometheus format 0.0.4)."""
        return generate_latest(self.registry)

    def label(self, name: str) -> str:
        """`name` as its registry spells it if this node knows it (engine,
        storage or publisher type), else `other`: peers cannot invent label
        values."""
        return self._known.get(name.lower(), "other")

    # -- requester -----------------------------------------------------

    def job_submitted(self, job_type: str) -> None:
        self.jobs_submitted.labels(job_type).inc()

    def job_state(self, job_type: str, old: str | None, new: str | None) -> None:
        """A job moved from state `old` (None: it is new) to `new` (None:
        it is gone, replaced by its next version)."""
        if old is not None:
            self.jobs.labels(job_type, old).dec()
        if new is not None:
            self.jobs.labels(job_type, new).inc()

    def job_ended(self, job_type: str, state: str, seconds: float) -> None:
        self.job_latency.labels(job_type, state).observe(max(seconds, 0.0))

    def bid_asked(self) -> None:
        self.bids_asked.inc()

    def bid_answered(self, accepted: bool, reason: str = "") -> None:
        self.bids.labels("accepted" if accepted else "declined", reason).inc()

    # -- compute -------------------------------------------------------

    def execution_started(self, engine: str) -> None:
        self.executions_started.labels(self.label(engine)).inc()

    def execution_ran(self, engine: str, seconds: float) -> None:
        self.execution_duration.labels(self.label(engine)).observe(seconds)

    def execution_ended(self, engine: str, state: str) -> None:
        self.executions_finished.labels(self.label(engine), state.lower()).inc()

    def queue_waited(self, seconds: float) -> None:
        self.queue_wait.observe(seconds)

    # -- plumbing ------------------------------------------------------

    def rpc_called(self, method: str, seconds: float, outcome: str) -> None:
        self.rpc_latency.labels(method, outcome).observe(seconds)

    def store_committed(self, seconds: float, changes: int) -> None:
        self.store_commit.observe(seconds)
        self.store_changes.inc(changes)

    def data_moved(self, direction: str, kind: str, size: int) -> None:
        self.data_bytes.labels(direction, self.label(kind)).inc(size)
