"""How Kubo lays a file out as a DAG: fixed-size chunks, balanced tree.

Leaves hold the chunks in order; a parent (a UnixFS File node with no
data) links at most `max_links` children and records each child's file
bytes in `blocksizes`. The tree grows like Kubo's balanced builder: the
first leaf is the root until a second chunk exists; then a new root at
depth d adopts the old root and fills itself with full subtrees of depth
d-1 until it has `max_links` children or the chunks run out. A file of
one chunk is that leaf; an empty file is an empty leaf.

A leaf is a dag-pb UnixFS File node holding the chunk, or with
`raw_leaves` the chunk itself (codec raw, always CIDv1). A link's Tsize
is the child's block size plus its own links' Tsizes. Only the open
path of the tree is in memory: one list of children per level.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from . import dagpb, unixfs
from .blocks import BlockSink
from .cid import CID, DAG_PB, RAW
from .dagpb import PBLink, PBNode
from .unixfs import DataType, UnixFSData

CHUNK_SIZE = 262_144
MAX_LINKS = 174


@dataclass(frozen=True, slots=True)
class Layout:
    """The knobs of a file DAG; the defaults are `ipfs add`'s."""

    cid_version: int = 0
    raw_leaves: bool = False
    chunk_size: int = CHUNK_SIZE
    max_links: int = MAX_LINKS

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise ValueError(f"cid_version must be 0 or 1, not {self.cid_version}")
        if self.chunk_size < 1 or self.max_links < 2:
            raise ValueError("chunk_size must be >= 1 and max_links >= 2")

    def dag_cid(self, block: bytes) -> CID:
        """The CID of a dag-pb block under this layout."""
        return CID.of(block, version=self.cid_version, codec=DAG_PB)


@dataclass(frozen=True, slots=True)
class Built:
    """A node written to the sink: its CID, Tsize and the file bytes under it."""

    cid: CID
    tsize: int
    filesize: int


class FileBuilder:
    """Builds one file's DAG from its chunks, writing blocks as they are made."""

    def __init__(self, chunks: Iterator[bytes], sink: BlockSink, layout: Layout):
        self._chunks = chunks
        self._sink = sink
        self._layout = layout
        self._next = next(chunks, None)
        self.blocks = 0

    def build(self) -> Built:
        """The root of the file (every block is in the sink when it returns)."""
        root = self._leaf(self._take())
        depth = 1
        while self._next is not None:
            root = self._fill([root], depth)
            depth += 1
        return root

    def _take(self) -> bytes:
        chunk, self._next = self._next or b"", next(self._chunks, None)
        return chunk

    def _fill(self, children: list[Built], depth: int) -> Built:
        while len(children) < self._layout.max_links and self._next is not None:
            if depth == 1:
                children.append(self._leaf(self._take()))
            else:
                children.append(self._fill([], depth - 1))
        return self._parent(children)

    def _leaf(self, chunk: bytes) -> Built:
        if self._layout.raw_leaves:
            return self._put(CID.of(chunk, version=1, codec=RAW), chunk, len(chunk), 0)
        data = UnixFSData(DataType.FILE, data=chunk or None, filesize=len(chunk))
        block = dagpb.encode(PBNode(data=unixfs.encode(data)))
        return self._put(self._layout.dag_cid(block), block, len(chunk), 0)

    def _parent(self, children: list[Built]) -> Built:
        sizes = tuple(child.filesize for child in children)
        data = UnixFSData(DataType.FILE, filesize=sum(sizes), blocksizes=sizes)
        links = tuple(PBLink(child.cid, "", child.tsize) for child in children)
        block = dagpb.encode(PBNode(links, unixfs.encode(data)))
        below = sum(child.tsize for child in children)
        return self._put(self._layout.dag_cid(block), block, sum(sizes), below)

    def _put(self, cid: CID, block: bytes, filesize: int, below: int) -> Built:
        self._sink.put_block(cid, block)
        self.blocks += 1
        return Built(cid, len(block) + below, filesize)
