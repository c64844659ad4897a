"""Errors raised by the IPFS peer (blocks, UnixFS import and export, storage).

The hierarchy::

    IpfsError
     ├─ InvalidBlock      bytes that are not the dag-pb / UnixFS block claimed
     ├─ BlockNotFound     a block a walk needs is not held (nor fetched)
     ├─ UnsupportedNode   a valid node this node cannot export (e.g. a HAMT
     │                    shard where a file was asked for)
     ├─ UnsafePath        a link name that would write outside the target
     ├─ ImportFailed      a file or directory that cannot be added
     └─ BlockstoreError   the disk store failed
         └─ StorageFull   no space left on the device (ENOSPC)

`cid.InvalidCID` (a `ValueError`) stays in `cid.py`, where CIDs are parsed.
"""

from __future__ import annotations


class IpfsError(Exception):
    """Base class of every error the IPFS package raises."""


class InvalidBlock(IpfsError, ValueError):
    """Raised when a block does not decode; the message says what is wrong."""


class BlockNotFound(IpfsError):
    """Raised when a block needed to read a DAG is not available."""

    def __init__(self, cid: object) -> None:
        super().__init__(f"block {cid} is not available")
        self.cid = cid


class UnsupportedNode(IpfsError):
    """Raised when a well-formed node is of a kind the operation cannot use."""


class UnsafePath(IpfsError):
    """Raised when a link name is empty, `.`, `..` or contains a `/`."""


class ImportFailed(IpfsError):
    """Raised when a path cannot be added (missing, unreadable, odd name)."""


class BlockstoreError(IpfsError):
    """Raised when the on-disk blockstore cannot read or write."""


class StorageFull(BlockstoreError):
    """Raised when a write fails because the device has no space left."""
