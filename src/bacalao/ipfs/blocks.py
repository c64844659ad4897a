"""What holds blocks: the `Blocks` interface, and an in-memory store.

Every part of the IPFS peer (importer, exporter, bitswap server and
client) reads and writes blocks through `Blocks`, so the on-disk
blockstore and the in-memory one used by tests are interchangeable.
Blocks are immutable and named by their CID; `put` of a block already
held is a no-op. Implementations never block the trio loop.

The importer runs in a worker thread (hashing and reading files is CPU
and disk work) and writes through `BlockSink`, the synchronous side of a
store; stores that take imports implement both.
"""

from __future__ import annotations

from typing import Protocol

from .cid import CID


class Blocks(Protocol):
    """A content-addressed block store (async, safe on the trio loop)."""

    async def has(self, cid: CID) -> bool:
        """True if the block named `cid` is held here."""
        ...

    async def get(self, cid: CID) -> bytes | None:
        """The block's bytes, or None if it is not held here."""
        ...

    async def put(self, cid: CID, data: bytes) -> None:
        """Keep `data` as the block `cid` (the caller has verified it)."""
        ...


class BlockSink(Protocol):
    """Where a worker thread writes blocks (blocking; never on the trio loop)."""

    def put_block(self, cid: CID, data: bytes) -> None:
        """Keep `data` as the block `cid` (the caller made both)."""
        ...


class MemoryBlocks:
    """`Blocks` and `BlockSink` in a dict: for tests and tiny throwaway stores."""

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}

    async def has(self, cid: CID) -> bool:
        return cid.multihash in self.blocks

    async def get(self, cid: CID) -> bytes | None:
        return self.blocks.get(cid.multihash)

    async def put(self, cid: CID, data: bytes) -> None:
        self.blocks.setdefault(cid.multihash, data)

    def put_block(self, cid: CID, data: bytes) -> None:
        self.blocks.setdefault(cid.multihash, data)
