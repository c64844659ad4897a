"""Read UnixFS DAGs back: `cat` a file, `ls` a directory, `export` to disk.

    async for chunk in cat(blocks, cid): ...
    for entry in await ls(blocks, cid): print(entry.name, entry.size)
    await export(blocks, cid, Path("out"))      # a file or a whole tree

Every block is read through `Blocks`, one at a time, so a store that
fetches missing blocks from the network can be passed in unchanged.
Memory stays bounded: a file streams leaf by leaf (the pending links of
the open path are all that is kept) and a tree is written entry by entry.

`export` writes into a hidden temp path beside `dest` and renames it into
place when everything is written, so a failure (missing block, bad block,
unsafe name, full disk) leaves nothing at `dest` and no temp behind.
`dest` must not exist. Entry names are single path components
(`UnsafePath` otherwise), files are created exclusively and symlinks are
written as symlinks, never followed, so nothing lands outside `dest`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import trio

from .blocks import Blocks
from .cid import CID
from .exceptions import InvalidBlock, UnsafePath, UnsupportedNode
from .nodes import Entry, Node, entries, load
from .unixfs import DataType

__all__ = ["Entry", "cat", "export", "ls"]


async def cat(blocks: Blocks, cid: CID) -> AsyncGenerator[bytes, None]:
    """The bytes of the file `cid`, chunk by chunk, checked against its size."""
    root = await load(blocks, cid)
    if not root.is_file:
        raise UnsupportedNode(f"{cid} is a {root.kind}, not a file")
    async with aclosing(_checked_chunks(blocks, root)) as chunks:
        async for chunk in chunks:
            yield chunk


async def _checked_chunks(blocks: Blocks, root: Node) -> AsyncGenerator[bytes, None]:
    written = 0
    async with aclosing(_file_chunks(blocks, root)) as chunks:
        async for chunk in chunks:
            written += len(chunk)
            yield chunk
    if written != root.filesize:
        raise InvalidBlock(
            f"{root.cid}: file holds {written} bytes but says it has {root.filesize}"
        )


async def _file_chunks(blocks: Blocks, root: Node) -> AsyncGenerator[bytes, None]:
    pending: list[Node | CID] = [root]  # what is left of the open path
    while pending:
        item = pending.pop()
        node = item if isinstance(item, Node) else await load(blocks, item)
        if not node.is_file:
            raise InvalidBlock(f"{node.cid}: a {node.kind} inside a file")
        if node.data.data:
            yield node.data.data
        pending.extend(link.cid for link in reversed(node.links))


async def ls(blocks: Blocks, cid: CID) -> list[Entry]:
    """The entries of directory `cid`: name, CID, size (files) and type."""
    directory = await load(blocks, cid)
    listing = []
    async with aclosing(entries(blocks, directory)) as found:
        async for name, child_cid in found:
            child = await load(blocks, child_cid)
            listing.append(Entry(name, child_cid, child.filesize, child.kind))
    return listing


async def export(blocks: Blocks, cid: CID, dest: Path) -> None:
    """Write the file, directory tree or symlink `cid` to `dest`."""
    dest = Path(dest)
    if await trio.to_thread.run_sync(os.path.lexists, dest):
        raise FileExistsError(f"{dest} exists; export writes a new path only")
    partial = dest.parent / f".{dest.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        await _write(blocks, await load(blocks, cid), partial)
        await trio.to_thread.run_sync(os.rename, partial, dest)
    except BaseException:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(_remove, partial)
        raise


async def _write(blocks: Blocks, node: Node, path: Path) -> None:
    if node.is_file:
        await _write_file(blocks, node, path)
    elif node.is_directory:
        await trio.to_thread.run_sync(os.mkdir, path)
        seen: set[str] = set()
        async with aclosing(entries(blocks, node)) as found:
            async for name, child in found:
                if name in seen:
                    raise UnsafePath(f"directory {node.cid} names {name!r} twice")
                seen.add(name)
                await _write(blocks, await load(blocks, child), path / name)
    elif node.data.type == DataType.SYMLINK:
        target = os.fsdecode(node.data.data or b"")
        await trio.to_thread.run_sync(os.symlink, target, path)
    else:
        raise UnsupportedNode(f"{node.cid} is a {node.kind}; cannot write it out")


async def _write_file(blocks: Blocks, node: Node, path: Path) -> None:
    async with (
        await trio.open_file(path, "xb") as file,
        aclosing(_checked_chunks(blocks, node)) as chunks,
    ):
        async for chunk in chunks:
            await file.write(chunk)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        path.unlink()
