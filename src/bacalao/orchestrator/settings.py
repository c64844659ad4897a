"""The orchestrator's own settings, taken from the node's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..config import NodeConfig
from .scheduler import SchedulerSettings
from .submission import JobDefaults


@dataclass(frozen=True)
class OrchestratorSettings:
    """What the orchestrator needs to know of the node's configuration."""

    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    defaults: JobDefaults = field(default_factory=JobDefaults)
    bid_timeout: float = 5.0

    @classmethod
    def of(cls, config: NodeConfig) -> OrchestratorSettings:
        return cls(
            scheduler=SchedulerSettings(
                queue_timeout=config.queue_timeout,
                queue_retry=min(1.0, config.queue_retry_max),
                queue_retry_max=config.queue_retry_max,
                node_timeout=config.node_timeout,
                execution_lease_timeout=config.execution_lease_timeout,
                default_execution_timeout=config.default_execution_timeout,
            ),
            defaults=JobDefaults(
                cpu=config.default_cpu,
                memory=config.default_memory,
                publisher=config.default_publisher,
            ),
            bid_timeout=config.bid_timeout,
        )
