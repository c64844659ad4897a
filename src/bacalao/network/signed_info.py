"""Node info signed by the node it describes, so that others can relay it.

A node's info reaches others directly (its own gossip, which libp2p signs)
and relayed (node tables, pulled from any peer). A relayed copy must not
let the relaying peer speak for the node, so every node seals its info
with its identity key and everyone checks the seal before believing it:
the key is the one inside the node's own ed25519 peer ID.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from pydantic import ValidationError

from ..models.node import NodeInfo
from ..models.wire import SignedNodeInfo
from ..p2p.identity import verify


class InvalidNodeInfo(ValueError):
    """Raised when a signed node info is malformed or not signed by its node."""


def seal(info: NodeInfo, sign: Callable[[bytes], bytes]) -> SignedNodeInfo:
    """`info`, signed by `sign` (the key of the node it describes)."""
    payload = info.model_dump_json()
    signature = base64.b64encode(sign(payload.encode())).decode()
    signed = SignedNodeInfo(Payload=payload, Signature=signature)
    signed._info = info
    return signed


def opened(signed: SignedNodeInfo) -> NodeInfo:
    """The info inside `signed` once its signature checks out (cached)."""
    if signed._info is not None:
        return signed._info
    try:
        info = NodeInfo.model_validate_json(signed.Payload)
        signature = base64.b64decode(signed.Signature, validate=True)
    except (ValidationError, ValueError, binascii.Error) as exc:
        raise InvalidNodeInfo(f"malformed signed node info: {exc}") from None
    if not verify(info.NodeID, signed.Payload.encode(), signature):
        raise InvalidNodeInfo(f"node info of {info.NodeID} is not signed by it")
    signed._info = info
    return info


def sender_refusal(sender: str, signed: SignedNodeInfo) -> str | None:
    """Why `sender` may not hand over `signed` as its own info, or None."""
    try:
        info = opened(signed)
    except InvalidNodeInfo as exc:
        return str(exc)
    if info.NodeID != sender:
        return f"claims to be {info.NodeID} but was sent by {sender}"
    return None
