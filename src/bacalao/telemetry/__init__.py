"""What a node tells its operator about itself: metrics and traces.

- `metrics.py`: every metric definition, one registry per node
- `reasons.py`: bid decline reasons as a bounded label
- `requester.py`: job, bid and latency metrics from committed job changes
- `compute.py`: executor, execution-store and capacity observers
- `wiring.py`: how node.py attaches them to the node's parts
- `tracing.py`: OpenTelemetry spans, on only when asked; the traceparent
- `walk.py`: the requester's spans, from a job's history
- `timeline.py`: the compute node's spans, from the moments it noted
- `safe.py`: observers log their failures, never raise them
"""

from __future__ import annotations

from .metrics import CONTENT_TYPE, NodeMetrics
from .reasons import BID_REASONS, bid_reason
from .requester import JobMetrics
from .tracing import TRACEPARENT_META, Tracing
from .walk import JobTracer

__all__ = [
    "BID_REASONS",
    "CONTENT_TYPE",
    "TRACEPARENT_META",
    "JobMetrics",
    "JobTracer",
    "NodeMetrics",
    "Tracing",
    "bid_reason",
]
