"""The node's IPFS routes (`/api/v1/ipfs/...`) for `Client` users.

    cid = add(client, Path("data"))["CID"]        # a file or a directory
    url = get_url(client, cid, name="data")       # a tar, for open_download
    for chunk in cat(client, cid): ...

Uploads stream: a file goes as it is read, a directory as a tar written
by a worker thread while it is sent (chunked), so neither is held in
memory. Standard library only, like the rest of the client.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import tarfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .api import Client
from .errors import ConnectError
from .wire import api_error, query_string

IPFS = "/api/v1/ipfs"
CHUNK = 256 * 1024


def add(client: Client, path: Path, *, cid_version: int = 0) -> dict[str, Any]:
    """Add `path` to the node's IPFS peer; {CID, Name, Bytes}."""
    kind = "tar" if path.is_dir() else "file"
    query = query_string({"kind": kind, "name": path.name, "cid-version": cid_version})
    headers = {"Content-Type": "application/octet-stream", **_auth(client)}
    connection = client.endpoint.connection(client.timeout)
    try:
        if kind == "file":
            with path.open("rb") as body:
                headers["Content-Length"] = str(os.fstat(body.fileno()).st_size)
                connection.request("POST", f"{IPFS}/add{query}", body, headers)
                response = connection.getresponse()
        else:
            connection.request(
                "POST", f"{IPFS}/add{query}", _tar_stream(path), headers,
                encode_chunked=True,
            )  # fmt: skip
            response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise ConnectError(f"uploading {path} failed: {exc}") from exc
    finally:
        connection.close()
    if response.status >= 400:
        raise api_error(response.status, data, f"POST {IPFS}/add")
    answer: dict[str, Any] = json.loads(data)
    return answer


def get_url(
    client: Client,
    cid: str,
    *,
    name: str | None = None,
    providers: Sequence[str] = (),
    timeout: int | None = None,
) -> str:
    """The URL of `cid` as a tar on the client's node (for `open_download`);
    `name` is the archive's top-level entry ("" for a directory's entries)."""
    query = query_string(
        {
            "name": name,
            "providers": ",".join(providers) or None,
            "timeout": timeout,
        }
    )
    return f"{client.base_url}{IPFS}/get/{quote(cid)}{query}"


def cat(client: Client, cid: str, *, timeout: int | None = None) -> Iterator[bytes]:
    """The bytes of the file `cid`, chunk by chunk."""
    query = query_string({"timeout": timeout})
    with client.open_download(f"{client.base_url}{IPFS}/cat/{quote(cid)}{query}") as d:
        while chunk := d.read(CHUNK):
            yield chunk


def ls(client: Client, cid: str, *, timeout: int | None = None) -> dict[str, Any]:
    """{CID, Entries: [{Name, CID, Size, Type}]} of the directory `cid`."""
    data = client.request("GET", f"{IPFS}/ls/{quote(cid)}", query={"timeout": timeout})
    answer: dict[str, Any] = json.loads(data)
    return answer


def pins(client: Client) -> list[dict[str, str]]:
    pinned: list[dict[str, str]] = json.loads(client.request("GET", f"{IPFS}/pins"))[
        "Pins"
    ]
    return pinned


def gc(client: Client) -> dict[str, int]:
    answer: dict[str, int] = json.loads(client.request("POST", f"{IPFS}/gc"))
    return answer


def _auth(client: Client) -> dict[str, str]:
    return {**client.endpoint.auth_headers(), **client.headers}


class _QueueFile:
    """A write-only file handing its bytes to a queue, in chunks."""

    def __init__(self, out: queue.Queue[bytes | BaseException | None]) -> None:
        self._out = out
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._out.put(bytes(self._buffer))
            self._buffer.clear()


def _tar_stream(folder: Path) -> Iterator[bytes]:
    """`folder` as a tar, written by a thread while it is read."""
    out: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=8)

    def write() -> None:
        try:
            sink = _QueueFile(out)
            with tarfile.open(fileobj=sink, mode="w|") as tar:  # type: ignore[call-overload]
                tar.add(folder, arcname=folder.name)
            sink.flush()
            out.put(None)
        except BaseException as exc:
            out.put(exc)

    threading.Thread(target=write, daemon=True, name="tar-upload").start()
    while (item := out.get()) is not None:
        if isinstance(item, BaseException):
            raise OSError(f"cannot read {folder}: {item}")
        yield item


__all__ = ["add", "cat", "gc", "get_url", "ls", "pins"]
