"""The `noop` publisher: nothing is published (the test double of the kind).

The results folder stays on the node; the task's output still reaches the
requester in the execution's RunOutput. No params.
"""

from __future__ import annotations

from ..dataplane import PluginContext
from ..models.job import SpecConfig
from .base import ParamError, Publisher, PublishRequest


def check_params(params: dict[str, object]) -> ParamError | None:
    return None


class NoopPublisher:
    """Publishes nothing."""

    async def check(self) -> str | None:
        return None

    def refusal(self, spec: SpecConfig) -> str | None:
        return None

    async def publish(self, request: PublishRequest) -> SpecConfig:
        return SpecConfig()


def build(ctx: PluginContext) -> Publisher:
    return NoopPublisher()
