"""Staging with only the sources every node has: `inline` and `local`.

The functions executors and their tests use, without a `DataPlane`:
`supported(allowed_local_paths)` lists the types offered (`SUPPORTED` is
what every node offers whatever its config), `refusal` is the bid-time
check and `stage_inputs` stages. A node stages through its `Sources`
(see `sources`), which adds the kinds that need node services (S3, URL).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..models.job import InputSource
from . import local
from .base import InputSourcePlugin, StagedInput
from .inline import InlineSource
from .sources import Sources

SUPPORTED = ("inline",)


def supported(allowed_local_paths: Sequence[str] = ()) -> tuple[str, ...]:
    """The source types a node with this allow-list offers (of inline/local)."""
    if local.parse_allowed(allowed_local_paths):
        return (*SUPPORTED, *local.TYPES)
    return SUPPORTED


def _basic(allowed_local_paths: Sequence[str]) -> Sources:
    plugins: dict[str, InputSourcePlugin] = {"inline": InlineSource()}
    paths = local.LocalPathSource(local.parse_allowed(allowed_local_paths))
    plugins.update(dict.fromkeys(local.TYPES, paths))
    return Sources(plugins)


def refusal(
    sources: Sequence[InputSource], allowed_local_paths: Sequence[str] = ()
) -> str | None:
    """Why a local source of `sources` will not be staged (no I/O), or None."""
    local_only = [s for s in sources if local.is_local(s)]
    return _basic(allowed_local_paths).refusal(local_only)


async def stage_inputs(
    sources: Sequence[InputSource],
    workdir: Path,
    *,
    allowed_local_paths: Sequence[str] = (),
) -> list[StagedInput]:
    """Stage inline and local sources under `workdir`."""
    return await _basic(allowed_local_paths).stage(sources, workdir)
