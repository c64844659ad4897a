"""The publisher plugin interface: how a compute node publishes results.

One module per kind, listed in `registry`. Each module has

    check_params(params) -> ParamError | None   pure: is the spec well formed?
    build(ctx: PluginContext) -> Publisher      the plugin of this node

and the plugin it builds has `check()` (None when it works here, else why
not), a pure `refusal(spec)` for bidding, and `publish(request)`, which
returns the published-result spec (Bacalhau's `PublishedResult`) or raises
`PublishError` saying where it could not publish and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..models.job import SpecConfig
from ..storage.base import ParamError

__all__ = ["ParamError", "PublishRequest", "Publisher"]


@dataclass(frozen=True)
class PublishRequest:
    """One execution's results to publish, as its job's publisher spec says."""

    spec: SpecConfig
    results_dir: Path
    scratch: Path  # an empty folder the publisher may use (removed after)
    execution_id: str
    job_id: str
    node_id: str


class Publisher(Protocol):
    """One kind of publisher, as built for this node."""

    async def check(self) -> str | None:
        """None when this node can publish this way, else why not."""
        ...

    def refusal(self, spec: SpecConfig) -> str | None:
        """Why this node will not publish as `spec` says (no I/O), or None."""
        ...

    async def publish(self, request: PublishRequest) -> SpecConfig:
        """Publish `request.results_dir`; the published-result spec."""
        ...
