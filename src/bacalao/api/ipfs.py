"""Routes under `/api/v1/ipfs`: the node's IPFS peer, for the CLI.

    POST /api/v1/ipfs/add?kind=file|tar&name=N&cid-version=0|1
                               the body (a file, or a tar of a directory)
                               streams to disk, is added and pinned
    GET  /api/v1/ipfs/get/{cid}?name=N&providers=P,Q&timeout=S
                               the DAG as a tar, streamed while bitswap
                               brings it (`name` empty: a directory's
                               entries at the top level)
    GET  /api/v1/ipfs/cat/{cid}   a file's bytes
    GET  /api/v1/ipfs/ls/{cid}    a directory's entries
    GET  /api/v1/ipfs/pins        what this node keeps
    POST /api/v1/ipfs/gc          drop every block no pin reaches

These are bacalao's own (Bacalhau has no IPFS API of its own; Kubo's
`/api/v0` is a different protocol). `providers` are peer IDs or
multiaddrs that hold the CID; the node also asks its connected peers and
its `--ipfs-peer`s. A CID nobody provides is a 404 naming it, once no
block arrived for `timeout` seconds.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import trio

from ..ipfs.cid import CID, InvalidCID
from ..ipfs.exceptions import (
    BlockNotFound,
    InvalidBlock,
    IpfsError,
    StorageFull,
    UnsafePath,
    UnsupportedNode,
)
from ..ipfs.exporter import cat, ls
from ..ipfs.nodes import load
from ..ipfs.tar import dag_size
from .backend import Backend
from .errors import ApiError, BadRequest, InsufficientStorage, NotFound
from .http import Request, Response, Write, json_response, streams_body
from .results import UNPACKED_HEADER
from .router import Doc, Route, route

IPFS = "/api/v1/ipfs"
MAX_TIMEOUT = 3600.0


class IpfsApi(Protocol):
    """What these routes use of the node's IPFS peer (`ipfs.peer.IpfsPeer`)."""

    root: Path

    async def add(
        self, path: Path, *, cid_version: int = 0, name: str = "", pin: bool = True
    ) -> Any: ...

    async def fetch(
        self,
        cid: CID,
        *,
        providers: Sequence[str] = (),
        no_progress_timeout: float | None = None,
    ) -> None: ...

    async def stream_tar(
        self,
        cid: CID,
        name: str,
        write: Callable[[bytes], Awaitable[None]],
        *,
        providers: Sequence[str] = (),
        no_progress_timeout: float | None = None,
    ) -> None: ...

    def remote(
        self, providers: Sequence[str] = (), no_progress_timeout: float | None = None
    ) -> Any: ...

    async def pins(self) -> list[Any]: ...

    async def gc(self) -> Any: ...


def _cid(request: Request) -> CID:
    text = request.params["cid"]
    try:
        return CID.parse(text)
    except InvalidCID as exc:
        raise BadRequest(f"invalid CID {text!r}: {exc}") from None


def _providers(backend: Backend, request: Request) -> list[str]:
    named = [p for p in request.query.text("providers").split(",") if p.strip()]
    return backend.ipfs_providers(named)


def _timeout(request: Request) -> float | None:
    text = request.query.text("timeout")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"invalid timeout {text!r}: a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT:
        raise BadRequest(f"invalid timeout {text!r}: 0 < timeout <= {MAX_TIMEOUT:g}")
    return value


def translated(exc: IpfsError) -> ApiError:
    """Our IPFS errors as API errors a user can act on."""
    if isinstance(exc, BlockNotFound):
        return NotFound(
            f"{exc}: no peer provided it in time",
            hint="check the CID; pass providers, or start the node with "
            "--ipfs-peer MULTIADDR of a peer that has it",
        )
    if isinstance(exc, UnsupportedNode | UnsafePath):
        return BadRequest(str(exc))
    if isinstance(exc, StorageFull):
        return InsufficientStorage(str(exc), hint="free disk space on the node")
    if isinstance(exc, InvalidBlock):
        return ApiError(f"a peer sent a damaged block: {exc}")
    return ApiError(str(exc))


async def _first_block(
    peer: IpfsApi, cid: CID, providers: list[str], timeout: float | None
) -> None:
    """Get the root block before answering, so a CID nobody has is a 404."""
    blocks = peer.remote(providers, timeout)
    try:
        await blocks.get(cid)
    except IpfsError as exc:
        raise translated(exc) from None


async def get(backend: Backend, request: Request) -> Response:
    cid, peer = _cid(request), backend.ipfs()
    providers, timeout = _providers(backend, request), _timeout(request)
    await _first_block(peer, cid, providers, timeout)
    size = await dag_size(peer.remote(providers, timeout), cid)
    name = request.query.text("name", str(cid))

    async def stream(write: Write) -> None:
        await peer.stream_tar(
            cid, name, write, providers=providers, no_progress_timeout=timeout
        )

    return Response(
        200,
        content_type="application/x-tar",
        headers=((UNPACKED_HEADER, str(size)),),
        stream=stream,
    )


async def cat_file(backend: Backend, request: Request) -> Response:
    cid, peer = _cid(request), backend.ipfs()
    providers, timeout = _providers(backend, request), _timeout(request)
    await _first_block(peer, cid, providers, timeout)
    blocks = peer.remote(providers, timeout)
    root = await load(blocks, cid)
    if not root.is_file:
        raise BadRequest(f"{cid} is a {root.kind}, not a file", hint="use ipfs ls")

    async def stream(write: Write) -> None:
        async with aclosing(cat(blocks, cid)) as chunks:
            async for chunk in chunks:
                await write(chunk)

    return Response(
        200,
        content_type="application/octet-stream",
        headers=(("content-length", str(root.filesize)),),
        stream=stream,
    )


async def list_directory(backend: Backend, request: Request) -> Response:
    cid, peer = _cid(request), backend.ipfs()
    providers, timeout = _providers(backend, request), _timeout(request)
    try:
        found = await ls(peer.remote(providers, timeout), cid)
    except IpfsError as exc:
        raise translated(exc) from None
    entries = [
        {"Name": e.name, "CID": str(e.cid), "Size": e.size, "Type": e.type}
        for e in found
    ]
    return json_response({"CID": str(cid), "Entries": entries})


async def list_pins(backend: Backend, request: Request) -> Response:
    pins = await backend.ipfs().pins()
    return json_response({"Pins": [{"CID": str(p.cid), "Name": p.name} for p in pins]})


async def collect_garbage(backend: Backend, request: Request) -> Response:
    result = await backend.ipfs().gc()
    return json_response({"Blocks": result.blocks, "Bytes": result.bytes})


@streams_body
async def add(backend: Backend, request: Request) -> Response:
    """The body, streamed to a temporary folder on the node, then added."""
    peer = backend.ipfs()
    kind = request.query.choice("kind", ("file", "tar"), "file")
    name = Path(request.query.text("name") or "upload").name or "upload"
    version = request.query.integer("cid-version", 0, maximum=1)
    uploads = peer.root / "uploads"
    await trio.to_thread.run_sync(partial(uploads.mkdir, parents=True, exist_ok=True))
    scratch = Path(await trio.to_thread.run_sync(tempfile.mkdtemp, "", "add-", uploads))
    try:
        body = scratch / ("body.tar" if kind == "tar" else name)
        size = await _receive(request, body)
        target = body
        if kind == "tar":
            target = scratch / "tree"
            await trio.to_thread.run_sync(_unpack, body, target)
            entries = await trio.to_thread.run_sync(lambda: sorted(target.iterdir()))
            if len(entries) == 1:
                target = entries[0]
        imported = await peer.add(target, cid_version=version, name=name)
    except IpfsError as exc:
        raise translated(exc) from None
    finally:
        await trio.to_thread.run_sync(partial(shutil.rmtree, scratch, True))
    return json_response({"CID": str(imported.cid), "Name": name, "Bytes": size})


async def _receive(request: Request, path: Path) -> int:
    assert request.chunks is not None
    size = 0
    async with (
        await trio.open_file(path, "wb") as file,
        aclosing(request.chunks()) as chunks,
    ):
        async for chunk in chunks:
            await file.write(chunk)
            size += len(chunk)
    return size


def _unpack(archive: Path, into: Path) -> None:
    into.mkdir()
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            tar.extractall(into, filter="data")
    except tarfile.TarError as exc:
        raise BadRequest(f"the upload is not a readable tar: {exc}") from None


def ipfs_routes(backend: Backend) -> list[Route]:
    return [
        route(
            "POST",
            f"{IPFS}/add",
            partial(add, backend),
            Doc(
                "Add a file (kind=file) or a directory sent as a tar (kind=tar) "
                "to this node's IPFS peer and pin it",
                errors=(400, 503, 507),
            ),
        ),
        route(
            "GET",
            f"{IPFS}/get/{{cid}}",
            partial(get, backend),
            Doc(
                "A CID's file or tree as a tar, fetched over bitswap as needed",
                content_type="application/x-tar",
                errors=(400, 404, 503),
            ),
        ),
        route(
            "GET",
            f"{IPFS}/cat/{{cid}}",
            partial(cat_file, backend),
            Doc(
                "A file's bytes",
                content_type="application/octet-stream",
                errors=(400, 404, 503),
            ),
        ),
        route(
            "GET",
            f"{IPFS}/ls/{{cid}}",
            partial(list_directory, backend),
            Doc("A directory's entries", errors=(400, 404, 503)),
        ),
        route(
            "GET",
            f"{IPFS}/pins",
            partial(list_pins, backend),
            Doc("Pinned CIDs", errors=(503,)),
        ),
        route(
            "POST",
            f"{IPFS}/gc",
            partial(collect_garbage, backend),
            Doc("Delete every block no pin reaches", errors=(503,)),
        ),
    ]


__all__ = ["IpfsApi", "ipfs_routes", "translated"]
