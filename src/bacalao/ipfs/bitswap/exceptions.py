"""Errors raised by bitswap.

The hierarchy (under the IPFS package's `IpfsError`)::

    IpfsError
     └─ BitswapError
         ├─ MalformedMessage    bytes off a stream that are not a bitswap frame
         ├─ MessageTooLarge     a message to send would exceed the frame limit
         ├─ BlockNotFound       no peer delivered a wanted block in time (also
         │                      an `ipfs.exceptions.BlockNotFound`, so a DAG
         │                      walk's callers catch both alike)
         └─ ProviderUnreachable a provider given by multiaddr could not be dialled

libp2p's own errors are translated where they enter this package.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import exceptions
from ..cid import CID


class BitswapError(exceptions.IpfsError):
    """Base class of every error bitswap raises."""


class MalformedMessage(BitswapError):
    """Raised when a peer's frame is not a valid bitswap message (the only
    error decoding raises, whatever the bytes)."""


class MessageTooLarge(BitswapError):
    """Raised when a message to send would exceed the 4 MiB frame limit."""


class BlockNotFound(BitswapError, exceptions.BlockNotFound):
    """Raised when a fetch made no progress for its no-progress timeout.

    `missing` lists the CIDs not received; `cid` and the message name the
    first.
    """

    def __init__(self, missing: Sequence[CID], seconds: float, asked: int) -> None:
        self.missing = tuple(missing)
        self.cid = self.missing[0] if self.missing else None
        first = str(self.cid) if self.missing else "?"
        more = f" (and {len(self.missing) - 1} more)" if len(self.missing) > 1 else ""
        exceptions.IpfsError.__init__(
            self,
            f"no peer provided block {first}{more} within {seconds:g} s "
            f"({asked} peer(s) asked); check that a provider holding it is "
            "connected, or pass it as a provider",
        )


class ProviderUnreachable(BitswapError):
    """Raised when a provider given by multiaddr cannot be dialled."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"bitswap provider {address} unreachable: {reason}")
        self.address = address
        self.reason = reason
