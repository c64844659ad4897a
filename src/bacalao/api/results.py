"""`GET /api/v1/local/results/{execution_id}.tar.gz`: results the local
publisher left on this node, as a gzip'd tar streamed in chunks.

The compute node's `local` publisher points an execution's PublishedResult
at this route. The archive holds the results folder's entries at its top
level (`stdout`, `stderr`, `exitCode` and one folder per result path). It
is packed in a worker thread that hands 64 KiB chunks to the event loop
through a small channel, so a large folder neither blocks the loop nor
sits in memory; a client that goes away stops the packing.
"""

from __future__ import annotations

import os
import re
import tarfile
from functools import partial
from pathlib import Path

import trio

from .backend import Backend
from .errors import NotFound
from .http import Request, Response, Write
from .router import Doc, Route, route

RESULTS = "/api/v1/local/results"
SUFFIX = ".tar.gz"
CHUNK = 64 * 1024
BUFFERED_CHUNKS = 4
_EXECUTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
UNPACKED_HEADER = "x-bacalao-unpacked-bytes"


def unpacked_size(folder: Path) -> int:
    """The bytes of the regular files under `folder` (links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
    return total


class _ChannelFile:
    """A write-only file (for `tarfile`) that sends full chunks to the loop."""

    def __init__(self, send: trio.MemorySendChannel[bytes]) -> None:
        self._send = send
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            trio.from_thread.run(self._send.send, chunk)


def _pack(folder: Path, out: _ChannelFile) -> None:
    with tarfile.open(fileobj=out, mode="w|gz") as tar:  # type: ignore[call-overload]
        for entry in sorted(folder.iterdir()):
            tar.add(entry, arcname=entry.name)
    out.flush()


async def _pack_into(folder: Path, send: trio.MemorySendChannel[bytes]) -> None:
    async with send:
        await trio.to_thread.run_sync(_pack, folder, _ChannelFile(send))


async def stream_tar_gz(folder: Path, write: Write) -> None:
    """Write `folder` as a tar.gz, chunk by chunk, through `write`."""
    send, receive = trio.open_memory_channel[bytes](BUFFERED_CHUNKS)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_pack_into, folder, send)
        async with receive:
            async for chunk in receive:
                await write(chunk)


def execution_of(name: str) -> str:
    """The execution ID in `<id>.tar.gz`; `NotFound` for any other name."""
    execution_id = name.removesuffix(SUFFIX)
    if execution_id == name or not _EXECUTION_ID.match(execution_id):
        raise NotFound(
            f"no results at {RESULTS}/{name}",
            hint=f"the URL is {RESULTS}/<execution ID>{SUFFIX}, "
            "as in the execution's PublishedResult",
        )
    return execution_id


async def local_results(backend: Backend, request: Request) -> Response:
    execution_id = execution_of(request.params["name"])
    folder = await backend.result_folder(execution_id)
    size = await trio.to_thread.run_sync(unpacked_size, folder)
    disposition = f'attachment; filename="{execution_id}{SUFFIX}"'
    return Response(
        200,
        content_type="application/gzip",
        headers=(("content-disposition", disposition), (UNPACKED_HEADER, str(size))),
        stream=partial(stream_tar_gz, folder),
    )


def result_routes(backend: Backend) -> list[Route]:
    return [
        route(
            "GET",
            f"{RESULTS}/{{name}}",
            partial(local_results, backend),
            Doc(
                "Download an execution's results (local publisher) as a tar.gz; "
                "`name` is `<execution ID>.tar.gz`",
                content_type="application/gzip",
                errors=(404,),
            ),
        )
    ]


__all__ = ["execution_of", "result_routes", "stream_tar_gz"]
