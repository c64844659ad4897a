"""What holds blocks: the `Blocks` interface, and an in-memory store.

Every part of the IPFS peer (importer, exporter, bitswap server and
client) reads and writes blocks through `Blocks`, so the on-disk
blockstore and the in-memory one used by tests are interchangeable.
Blocks are immutable and named by their CID; `put` of a block already
held is a no-op. Implementations never block the trio loop.
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


class MemoryBlocks:
    """`Blocks` in a dict: for tests and for tiny throwaway stores."""

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}

    async def has(self, cid: CID) -> bool:
        return cid.multihash in self.blocks

    async def get(self, cid: CID) -> bytes | None:
        return self.blocks.get(cid.multihash)

    async def put(self, cid: CID, data: bytes) -> None:
        self.blocks.setdefault(cid.multihash, data)
