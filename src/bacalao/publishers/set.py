"""The publishers a node built: what it offers, bids on and publishes with.

`build_publishers(ctx)` builds every registered kind and keeps those whose
`check()` passes. An empty publisher type publishes nothing, as `noop`.
With `on_moved` set, `Publishers` is told the bytes of each results folder
a publisher other than `noop` published (`(type, bytes)`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import trio

from ..dataplane import PluginContext
from ..models.job import SpecConfig
from ..storage.base import tree_bytes
from . import registry
from .base import Publisher, PublishRequest
from .exceptions import PublishError

log = logging.getLogger(__name__)


class Publishers:
    """The publisher plugins of one node, by spec type name."""

    def __init__(self, plugins: Mapping[str, Publisher]) -> None:
        self._plugins = dict(plugins)
        self.on_moved: Callable[[str, int], None] | None = None

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(n for n in registry.names() if n in self._plugins)

    def refusal(self, spec: SpecConfig) -> str | None:
        """Why this node will not publish as `spec` says (no I/O), or None."""
        if spec.is_empty:
            return None
        plugin = self._plugins.get(spec.Type)
        if plugin is None:
            return f"publisher {spec.Type!r} is not supported here"
        return plugin.refusal(spec)

    async def publish(self, request: PublishRequest) -> SpecConfig:
        """The published-result spec; `PublishError` if it failed."""
        if request.spec.is_empty:
            return SpecConfig()
        plugin = self._plugins.get(request.spec.Type)
        if plugin is None:
            raise PublishError(f"publisher {request.spec.Type!r} is not offered here")
        published = await plugin.publish(request)
        if self.on_moved is not None and request.spec.Type != "noop":
            size = await trio.to_thread.run_sync(tree_bytes, request.results_dir)
            self.on_moved(request.spec.Type, size)
        return published


async def build_publishers(ctx: PluginContext) -> Publishers:
    """Every registered publisher kind that works on this node."""
    plugins: dict[str, Publisher] = {}
    for name in registry.names():
        plugin: Publisher = registry.load(name).build(ctx)
        problem = await plugin.check()
        if problem is None:
            plugins[name] = plugin
        else:
            log.info("publisher %s is not offered: %s", name, problem)
    return Publishers(plugins)
