"""Input sources: making a task's inputs available on the compute node.

`stage_inputs` turns each `InputSource` of a task into a `StagedInput` (a
path on this machine and the target path inside the task). Source types:

    inline                     a `data:` URL in the spec, written to a file
    local / localDirectory     a path of this node, bound where it is, if
                               the operator allow-listed it (see `local`)

`supported(allowed_local_paths)` lists the types a node offers (it
advertises them and does not bid on jobs that need others); `SUPPORTED`
is what every node offers whatever its config.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import trio

from ..executors.base import StagedInput
from ..models.data_url import decode_data_url
from ..models.job import InputSource
from . import local
from .exceptions import StorageError

SUPPORTED = ("inline",)

__all__ = ["SUPPORTED", "StorageError", "refusal", "stage_inputs", "supported"]


def supported(allowed_local_paths: Sequence[str] = ()) -> tuple[str, ...]:
    """The source types a node with this allow-list offers."""
    if local.parse_allowed(allowed_local_paths):
        return (*SUPPORTED, *local.TYPES)
    return SUPPORTED


def refusal(
    sources: Sequence[InputSource], allowed_local_paths: Sequence[str] = ()
) -> str | None:
    """Why this node will not stage one of `sources` (no I/O), or None."""
    allowed = local.parse_allowed(allowed_local_paths)
    for source in sources:
        if local.is_local(source):
            reason = local.refusal(source, allowed)
            if reason is not None:
                return reason
    return None


async def stage_inputs(
    sources: Sequence[InputSource],
    workdir: Path,
    *,
    allowed_local_paths: Sequence[str] = (),
) -> list[StagedInput]:
    """Stage every source under `workdir`; `StorageError` names the one that failed."""
    allowed = local.parse_allowed(allowed_local_paths)
    staged = []
    for index, source in enumerate(sources):
        staged.append(await _stage(index, source, workdir, allowed))
    return staged


async def _stage(
    index: int,
    source: InputSource,
    workdir: Path,
    allowed: tuple[local.AllowedPath, ...],
) -> StagedInput:
    kind = source.Source.Type
    if kind == "inline":
        return await _stage_inline(index, source, workdir)
    if local.is_local(source):
        return await trio.to_thread.run_sync(local.stage_local, source, allowed)
    raise StorageError(
        f"input {index} ({source.Target}): source type {kind!r} is not supported"
    )


async def _stage_inline(index: int, source: InputSource, workdir: Path) -> StagedInput:
    params = {k.lower(): v for k, v in source.Source.Params.items()}
    url = params.get("url")
    if not isinstance(url, str):
        raise StorageError(f"input {index} ({source.Target}): inline source has no URL")
    try:
        data = decode_data_url(url)
    except ValueError as exc:
        raise StorageError(f"input {index} ({source.Target}): {exc}") from None
    name = Path(source.Target).name or f"input-{index}"
    path = workdir / "inputs" / str(index) / name

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    await trio.to_thread.run_sync(write)
    return StagedInput(host_path=path, target=source.Target, read_only=True)
