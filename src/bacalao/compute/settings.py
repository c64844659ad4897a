"""The compute service's own settings, taken from the node's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import NodeConfig


@dataclass(frozen=True)
class ComputeSettings:
    """What the compute service needs to know of the node's configuration."""

    repo: Path  # executions' results and scratch folders live under it
    allowed_requesters: frozenset[str] = frozenset()  # empty: anyone
    labels: dict[str, str] = field(default_factory=dict)
    network_modes: frozenset[str] = frozenset()  # empty: any
    execution_lease_interval: float = 10.0
    default_execution_timeout: float = 30 * 60
    output_cap_bytes: int = 64 * 1024
    log_cap_bytes: int = 64 * 1024**2

    @classmethod
    def of(cls, config: NodeConfig) -> ComputeSettings:
        return cls(
            repo=config.repo,
            allowed_requesters=frozenset(config.allowed_requesters),
            labels=dict(config.labels),
            network_modes=frozenset(config.docker_network_modes),
            execution_lease_interval=config.execution_lease_interval,
            default_execution_timeout=config.default_execution_timeout,
            output_cap_bytes=config.output_cap_bytes,
            log_cap_bytes=config.log_cap_bytes,
        )
