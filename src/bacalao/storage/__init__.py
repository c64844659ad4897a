"""Input sources: making a task's inputs available on the compute node.

`stage_inputs` turns each `InputSource` of a task into a `StagedInput` (a
path on this machine and the target path inside the task). Source types
supported here are listed in `SUPPORTED`; a compute node advertises them
and does not bid on jobs that need others.
"""

from __future__ import annotations

from pathlib import Path

import trio

from ..executors.base import StagedInput
from ..models.data_url import decode_data_url
from ..models.job import InputSource
from .exceptions import StorageError

SUPPORTED = ("inline",)

__all__ = ["SUPPORTED", "StorageError", "stage_inputs"]


async def stage_inputs(sources: list[InputSource], workdir: Path) -> list[StagedInput]:
    """Stage every source under `workdir`; `StorageError` names the one that failed."""
    staged = []
    for index, source in enumerate(sources):
        staged.append(await _stage(index, source, workdir))
    return staged


async def _stage(index: int, source: InputSource, workdir: Path) -> StagedInput:
    kind = source.Source.Type
    if kind == "inline":
        return await _stage_inline(index, source, workdir)
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
