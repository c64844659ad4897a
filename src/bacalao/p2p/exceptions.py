"""Errors raised by the peer-to-peer layer.

The hierarchy::

    P2PError
     ├─ CodecError          bytes off the network that are not a valid frame
     │   └─ FrameTooLarge   a frame header announcing more than the limit
     ├─ PeerUnreachable     no connection or stream could be opened to a peer
     ├─ RpcTimeout          a peer did not answer within the deadline
     ├─ RemoteError         a peer answered with an error (carries its code)
     ├─ ListenError         the swarm could not listen on its address
     └─ KeyFileError        a key file (identity, swarm key) cannot be used
         ├─ InvalidIdentityKey  REPO/identity.key is unreadable or malformed
         └─ InvalidSwarmKey     a swarm.key file is not a valid private-network key

libp2p's own exceptions never leave this package: they are translated into
these where they enter our code.
"""

from __future__ import annotations


class P2PError(Exception):
    """Base class of every error the p2p layer raises."""


class CodecError(P2PError):
    """Raised when bytes read from a stream or topic cannot be decoded."""


class FrameTooLarge(CodecError):
    """Raised when a frame header announces more bytes than allowed."""


class PeerUnreachable(P2PError):
    """Raised when a stream to a peer cannot be opened or breaks mid-call.

    `refused` is True when the peer's address refused the connection:
    nothing listens there any more, which is as close to proof that the
    process is gone as a network gives.
    """

    def __init__(self, peer_id: str, reason: str, *, refused: bool = False) -> None:
        super().__init__(f"peer {peer_id} unreachable: {reason}")
        self.peer_id = peer_id
        self.reason = reason
        self.refused = refused


class RpcTimeout(P2PError):
    """Raised when a peer does not answer a request before the deadline."""

    def __init__(self, peer_id: str, method: str, seconds: float) -> None:
        super().__init__(f"{method} to peer {peer_id} timed out after {seconds:g}s")
        self.peer_id = peer_id
        self.method = method


class RemoteError(P2PError):
    """Raised when a peer handled a request and answered with an error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ListenError(P2PError):
    """Raised by `Swarm.run` when it cannot listen for peers on its address;
    `errno` is the socket error's code when known."""

    def __init__(self, address: str, reason: str, errno: int | None = None) -> None:
        super().__init__(f"cannot listen for peers on {address}: {reason}")
        self.address = address
        self.reason = reason
        self.errno = errno


class KeyFileError(P2PError, ValueError):
    """Raised when a key file cannot be read or does not hold a valid key.

    `path` names the file (or is None for a key given inline), `reason`
    says what is wrong with it.
    """

    def __init__(self, path: str | None, reason: str) -> None:
        where = path if path is not None else "the key"
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.reason = reason


class InvalidIdentityKey(KeyFileError):
    """Raised when the node's identity key file is unreadable or malformed."""


class InvalidSwarmKey(KeyFileError):
    """Raised when a swarm key (file or hex text) is not a valid 32-byte PSK."""
