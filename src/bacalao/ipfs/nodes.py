"""Reading UnixFS nodes out of blocks: what a CID is, and a directory's entries.

`load(blocks, cid)` fetches one block through `Blocks` and says what it
is: a file piece (dag-pb UnixFS File or Raw node, or a raw block), a
directory, a HAMT-sharded directory or a symlink. `entries` lists a
directory, walking HAMT shards (link names are the bucket index in hex,
followed by the entry name; a bare index is a sub-shard). Names are
checked so they can be used as one path component: never empty, `.`,
`..`, nor holding `/` or NUL (`UnsafePath`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from . import dagpb, unixfs
from .blocks import Blocks
from .cid import CID, DAG_PB, RAW
from .dagpb import PBLink
from .exceptions import BlockNotFound, InvalidBlock, UnsafePath, UnsupportedNode
from .unixfs import DataType, UnixFSData

FILE_TYPES = (DataType.FILE, DataType.RAW)
MAX_FANOUT = 1 << 12
MAX_HAMT_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Node:
    """One block, decoded: its UnixFS data (raw blocks read as a File)."""

    cid: CID
    data: UnixFSData
    links: tuple[PBLink, ...]
    size: int  # the block's length

    @property
    def is_file(self) -> bool:
        return self.data.type in FILE_TYPES

    @property
    def is_directory(self) -> bool:
        return self.data.type in (DataType.DIRECTORY, DataType.HAMT_SHARD)

    @property
    def filesize(self) -> int:
        """File bytes under this node (0 for anything but a file)."""
        if not self.is_file:
            return 0
        if self.data.filesize is not None:
            return self.data.filesize
        return len(self.data.data or b"") + sum(self.data.blocksizes)

    @property
    def kind(self) -> str:
        """`file`, `directory`, `symlink` or `metadata`."""
        if self.is_file:
            return "file"
        if self.is_directory:
            return "directory"
        return self.data.type.name.lower()


@dataclass(frozen=True, slots=True)
class Entry:
    """A directory entry as `ls` shows it."""

    name: str
    cid: CID
    size: int
    type: str


async def load(blocks: Blocks, cid: CID) -> Node:
    """The node `cid` names; `BlockNotFound` if `blocks` cannot give it."""
    block = await blocks.get(cid)
    if block is None:
        raise BlockNotFound(cid)
    if cid.codec == RAW:
        data = UnixFSData(DataType.RAW, data=block, filesize=len(block))
        return Node(cid, data, (), len(block))
    if cid.codec != DAG_PB:
        raise UnsupportedNode(f"{cid} is not UnixFS (codec 0x{cid.codec:x})")
    node = dagpb.decode(block)
    if node.data is None:
        raise InvalidBlock(f"{cid}: dag-pb node without UnixFS data")
    return Node(cid, unixfs.decode(node.data), node.links, len(block))


async def entries(
    blocks: Blocks, directory: Node
) -> AsyncGenerator[tuple[str, CID], None]:
    """(name, CID) of each entry of a directory, in link order."""
    if directory.data.type == DataType.DIRECTORY:
        for entry in directory.links:
            yield safe_name(directory.cid, entry.name), entry.cid
        return
    if directory.data.type != DataType.HAMT_SHARD:
        raise UnsupportedNode(f"{directory.cid} is a {directory.kind}, not a directory")
    stack = [(directory, iter(directory.links))]
    while stack:
        shard, links = stack[-1]
        link = next(links, None)
        if link is None:
            stack.pop()
            continue
        width = _index_width(shard)
        name = link.name or ""
        if len(name) > width:
            yield safe_name(shard.cid, name[width:]), link.cid
        elif len(name) < width:
            raise InvalidBlock(f"{shard.cid}: HAMT link name {name!r} is too short")
        elif len(stack) >= MAX_HAMT_DEPTH:
            raise InvalidBlock(f"{directory.cid}: HAMT deeper than {MAX_HAMT_DEPTH}")
        else:
            sub = await load(blocks, link.cid)
            if sub.data.type != DataType.HAMT_SHARD:
                raise InvalidBlock(f"{sub.cid}: a HAMT sub-shard that is a {sub.kind}")
            stack.append((sub, iter(sub.links)))


def safe_name(parent: CID, name: str | None) -> str:
    """`name` if it is one harmless path component, else `UnsafePath`."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise UnsafePath(
            f"refusing entry {name!r} of directory {parent}: a name must be one "
            "path component (not empty, '.', '..', nor containing '/')"
        )
    return name


def _index_width(shard: Node) -> int:
    fanout = shard.data.fanout
    if not fanout or fanout > MAX_FANOUT or fanout & (fanout - 1):
        raise InvalidBlock(f"{shard.cid}: HAMT fanout {fanout} is not a power of two")
    return len(f"{fanout - 1:X}")
