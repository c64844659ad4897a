"""The input sources a node built: what it offers, bids on and stages.

`build_sources(ctx)` builds every registered kind, keeps those whose
`check()` passes, and logs why the others are left out. `Sources.refusal`
is the pure bid-time check of a task's inputs; `Sources.stage` stages them
one by one under `workdir/inputs/<index>/` and, when one fails, removes
what it left there before raising `StorageError`. With `on_moved` set,
it is told the bytes each source wrote there (`(type, bytes)`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import trio

from ..dataplane import PluginContext
from ..models.job import InputSource
from . import registry
from .base import InputSourcePlugin, StagedInput, tree_bytes
from .exceptions import StorageError

log = logging.getLogger(__name__)


class Sources:
    """The input-source plugins of one node, by spec type name."""

    def __init__(self, plugins: Mapping[str, InputSourcePlugin]) -> None:
        self._plugins = dict(plugins)
        self.on_moved: Callable[[str, int], None] | None = None

    @property
    def types(self) -> tuple[str, ...]:
        """The source types offered, in registry order."""
        return tuple(n for n in registry.names() if n in self._plugins)

    def refusal(self, sources: Sequence[InputSource]) -> str | None:
        """Why this node will not stage one of `sources` (no I/O), or None."""
        for source in sources:
            plugin = self._plugins.get(source.Source.Type)
            if plugin is None:
                return f"input source {source.Source.Type!r} is not supported here"
            reason = plugin.refusal(source)
            if reason is not None:
                return reason
        return None

    async def stage(
        self, sources: Sequence[InputSource], workdir: Path
    ) -> list[StagedInput]:
        """Stage every source; `StorageError` names the one that failed."""
        return [
            await self._stage_one(index, source, workdir)
            for index, source in enumerate(sources)
        ]

    async def _stage_one(
        self, index: int, source: InputSource, workdir: Path
    ) -> StagedInput:
        plugin = self._plugins.get(source.Source.Type)
        if plugin is None:
            raise StorageError(
                f"input {index} ({source.Target}): source type "
                f"{source.Source.Type!r} is not supported"
            )
        dest = workdir / "inputs" / str(index)
        await trio.to_thread.run_sync(lambda: dest.mkdir(parents=True, exist_ok=True))
        try:
            staged = await plugin.stage(source, dest)
        except BaseException as exc:
            await _remove(dest)
            if isinstance(exc, OSError):
                raise StorageError(
                    f"input {source.Target}: cannot write it on this node: {exc}"
                ) from exc
            raise
        if self.on_moved is not None:
            size = await trio.to_thread.run_sync(tree_bytes, dest)
            self.on_moved(source.Source.Type, size)
        return staged


async def _remove(folder: Path) -> None:
    with trio.CancelScope(shield=True):
        await trio.to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))


async def build_sources(ctx: PluginContext) -> Sources:
    """Every registered source kind that works on this node."""
    plugins: dict[str, InputSourcePlugin] = {}
    built: dict[str, tuple[InputSourcePlugin, str | None]] = {}
    for kind in registry.KINDS:
        if kind.module not in built:
            plugin: InputSourcePlugin = registry.load(kind.name).build(ctx)
            built[kind.module] = (plugin, await plugin.check())
        plugin, problem = built[kind.module]
        if problem is None:
            plugins[kind.name] = plugin
        else:
            log.info("input source %s is not offered: %s", kind.name, problem)
    return Sources(plugins)
