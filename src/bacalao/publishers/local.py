"""The `local` publisher: results stay on this node, served by its API.

The published result is a `urlDownload` spec pointing at this node's
`/api/v1/local/results/<execution>.tar.gz` (see `api/results.py`), as
Bacalhau's local publisher does. No params.
"""

from __future__ import annotations

from collections.abc import Callable

from ..dataplane import PluginContext
from ..models.job import SpecConfig
from .base import ParamError, Publisher, PublishRequest


def check_params(params: dict[str, object]) -> ParamError | None:
    return None


class LocalPublisher:
    """Points the result at this node's API."""

    def __init__(self, api_base: Callable[[], str]) -> None:
        self._api_base = api_base

    async def check(self) -> str | None:
        return None

    def refusal(self, spec: SpecConfig) -> str | None:
        return None

    async def publish(self, request: PublishRequest) -> SpecConfig:
        url = f"{self._api_base()}/api/v1/local/results/{request.execution_id}.tar.gz"
        return SpecConfig(Type="urlDownload", Params={"URL": url})


def build(ctx: PluginContext) -> Publisher:
    return LocalPublisher(ctx.api_base)
