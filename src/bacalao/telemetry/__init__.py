"""What a node tells its operator about itself: Prometheus metrics.

metrics.py    every metric definition, one registry per node
reasons.py    bid decline reasons as a bounded label
requester.py  job, bid and latency metrics from committed job changes
compute.py    executor, execution-store and capacity observers
wiring.py     how node.py attaches them to the node's parts
"""

from __future__ import annotations

from .metrics import CONTENT_TYPE, NodeMetrics
from .reasons import BID_REASONS, bid_reason
from .requester import JobMetrics

__all__ = ["BID_REASONS", "CONTENT_TYPE", "JobMetrics", "NodeMetrics", "bid_reason"]
