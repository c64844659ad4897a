"""A UnixFS DAG as a tar stream, written as it is read (no copy on disk).

    async for chunk in tar_chunks(blocks, cid, "results"): ...

The archive holds one top-level entry named `name`: the file, or the
directory with its whole tree (symlinks as symlinks). With `name` empty,
a directory's entries are the top level (as a results archive is laid
out). Names come from
`nodes.entries`, which refuses any that is not a single path component,
so the archive never points outside its top-level entry. `dag_size`
gives the bytes a download of the DAG moves, for progress bars.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import AsyncGenerator
from contextlib import aclosing

from .blocks import Blocks
from .cid import CID
from .exceptions import UnsupportedNode
from .exporter import cat
from .nodes import Node, entries, load
from .unixfs import DataType

BLOCK = tarfile.BLOCKSIZE


async def tar_chunks(
    blocks: Blocks, cid: CID, name: str
) -> AsyncGenerator[bytes, None]:
    """The tar archive of `cid` under the top-level name `name`."""
    async with aclosing(_entry(blocks, await load(blocks, cid), name)) as chunks:
        async for chunk in chunks:
            yield chunk
    yield b"\0" * (2 * BLOCK)


async def dag_size(blocks: Blocks, cid: CID) -> int:
    """The DAG's size as its root records it (file bytes, or the tree's
    cumulative block sizes for a directory): a progress bar's total."""
    root = await load(blocks, cid)
    if root.is_file:
        return root.filesize
    return root.size + sum(link.tsize or 0 for link in root.links)


async def _entry(blocks: Blocks, node: Node, path: str) -> AsyncGenerator[bytes, None]:
    info = tarfile.TarInfo(path or str(node.cid))
    if node.is_file:
        info.size, info.mode = node.filesize, 0o644
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        async with aclosing(cat(blocks, node.cid)) as chunks:
            async for chunk in chunks:
                yield chunk
        yield b"\0" * (-node.filesize % BLOCK)
    elif node.is_directory:
        if path:  # else its entries are the top level
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            yield info.tobuf(format=tarfile.PAX_FORMAT)
        async with aclosing(entries(blocks, node)) as found:
            async for name, child in found:
                child_node = await load(blocks, child)
                where = f"{path}/{name}" if path else name
                async with aclosing(_entry(blocks, child_node, where)) as sub:
                    async for chunk in sub:
                        yield chunk
    elif node.data.type == DataType.SYMLINK:
        info.type, info.mode = tarfile.SYMTYPE, 0o777
        info.linkname = os.fsdecode(node.data.data or b"")
        yield info.tobuf(format=tarfile.PAX_FORMAT)
    else:
        raise UnsupportedNode(f"{node.cid} is a {node.kind}; it has no place in a tar")
