"""Bitswap 1.2.0 / 1.1.0 / 1.0.0: serve and fetch IPFS blocks between peers.

component.py  `Bitswap`: the node component (protocol handlers, nursery)
client.py     fetch sessions: many blocks from several providers at once
wants.py      a session's decisions (who is asked what), no I/O
server.py     answers peers' wants from a `Blocks` store
ledger.py     the server's per-peer wantlists and answers, no I/O
links.py      one outbound stream per peer, messages coalesced
wire.py       the protobuf codec and varint framing, no I/O
exceptions.py the errors raised here
"""

from .component import Bitswap, BitswapStatistics
from .exceptions import (
    BitswapError,
    BlockNotFound,
    MalformedMessage,
    MessageTooLarge,
    ProviderUnreachable,
)
from .wire import PROTOCOL_100, PROTOCOL_110, PROTOCOL_120, PROTOCOLS

__all__ = [
    "PROTOCOLS",
    "PROTOCOL_100",
    "PROTOCOL_110",
    "PROTOCOL_120",
    "Bitswap",
    "BitswapError",
    "BitswapStatistics",
    "BlockNotFound",
    "MalformedMessage",
    "MessageTooLarge",
    "ProviderUnreachable",
]
