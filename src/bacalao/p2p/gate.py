"""The peer allow-list: which peers this node's libp2p host talks to.

With no list every peer may connect. With one, `guard_host` makes the host
close an inbound connection from an unlisted peer as soon as the secure
handshake has told it who the peer is (before any protocol runs on it),
and refuse to dial an unlisted peer at all. Refusals are counted per
direction and per peer, and logged at most once per peer per minute.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from libp2p.abc import IHost, ISecureConn
from libp2p.network.exceptions import SwarmException
from libp2p.peer.id import ID
from libp2p.transport.exceptions import SecurityUpgradeFailure

from .ratelog import PeerCounts, PeerLog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateStatistics:
    """Connections refused by the allow-list (`allow_list` None: no list)."""

    allow_list: int | None
    refused_inbound: int = 0
    refused_outbound: int = 0
    refused_by_peer: dict[str, int] = field(default_factory=dict)


class PeerGate:
    """Decides and counts which peers may connect (see the module docstring)."""

    def __init__(self, allowed: Iterable[str] | None = None) -> None:
        self._allowed = None if allowed is None else frozenset(allowed)
        self._inbound = 0
        self._outbound = 0
        self._by_peer = PeerCounts()
        self._log = PeerLog(log)

    @property
    def restricted(self) -> bool:
        return self._allowed is not None

    def allows(self, peer_id: str) -> bool:
        return self._allowed is None or peer_id in self._allowed

    def admit(self, peer_id: str, *, inbound: bool) -> bool:
        """Whether a connection with `peer_id` may go ahead; counts and logs
        a refusal."""
        if self.allows(peer_id):
            return True
        if inbound:
            self._inbound += 1
        else:
            self._outbound += 1
        self._by_peer.add(peer_id)
        self._log(
            peer_id,
            "refused %s connection with %s: not on this node's allow-list",
            "an inbound" if inbound else "an outbound",
            peer_id,
        )
        return False

    def statistics(self) -> GateStatistics:
        return GateStatistics(
            allow_list=None if self._allowed is None else len(self._allowed),
            refused_inbound=self._inbound,
            refused_outbound=self._outbound,
            refused_by_peer=self._by_peer.snapshot(),
        )


def guard_host(host: IHost, gate: PeerGate) -> None:
    """Make `host` keep to `gate`: unlisted peers are hung up on right after
    the secure handshake, and never dialed. Does nothing without a list."""
    if not gate.restricted:
        return
    network: Any = host.get_network()
    upgrader = network.upgrader
    secure = upgrader.upgrade_security
    dial = network.dial_peer

    async def upgrade_security(
        raw_conn: Any, is_initiator: bool, peer_id: ID | None = None
    ) -> ISecureConn:
        conn: ISecureConn = await secure(raw_conn, is_initiator, peer_id)
        remote = str(conn.get_remote_peer().to_base58())
        if gate.admit(remote, inbound=not is_initiator):
            return conn
        await _close_quietly(conn)
        raise SecurityUpgradeFailure(f"peer {remote} is not on the allow-list")

    async def dial_peer(peer_id: ID) -> Any:
        if not gate.admit(str(peer_id.to_base58()), inbound=False):
            raise SwarmException(f"peer {peer_id} is not on this node's allow-list")
        return await dial(peer_id)

    upgrader.upgrade_security = upgrade_security
    network.dial_peer = dial_peer


async def _close_quietly(conn: ISecureConn) -> None:
    try:
        await conn.close()
    except Exception:  # the peer may already have gone; nothing to undo
        log.debug("closing a refused connection failed", exc_info=True)


def check_peer_id(text: str) -> str:
    """`text` if it is a peer ID (base58, e.g. 12D3KooW...); `ValueError` if not."""
    try:
        raw = ID.from_base58(text).to_bytes()
    except Exception as exc:  # base58 errors of several kinds
        raise ValueError(f"{text[:60]!r} is not a peer ID ({exc})") from None
    if not _is_peer_multihash(ID(raw)):
        raise ValueError(f"{text[:60]!r} is not a peer ID")
    return text


def _is_peer_multihash(peer: ID) -> bool:
    raw = peer.to_bytes()
    if raw[:2] == b"\x12\x20":  # sha2-256 of a large public key
        return len(raw) == 34
    if raw[:1] == b"\x00" and len(raw) > 2:  # the public key itself, inlined
        return raw[1] == len(raw) - 2 and peer.extract_public_key() is not None
    return False


def parse_peer_list(text: str) -> list[str]:
    """Peer IDs in an allow-list file: one a line, `#` starts a comment.
    `ValueError` naming the line of the first entry that is not a peer ID."""
    peers = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            try:
                peers.append(check_peer_id(entry))
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from None
    return peers


__all__ = [
    "GateStatistics",
    "PeerGate",
    "check_peer_id",
    "guard_host",
    "parse_peer_list",
]
