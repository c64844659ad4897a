"""The node's libp2p host: identity, transports, gossip, RPC, discovery.

`Swarm` is the one object the rest of bacalao uses to reach other nodes.
It builds a py-libp2p host (ed25519 identity, Noise, Yamux, TCP, optional
private-network key, optional peer allow-list), gossipsub tuned for our
message rates, the RPC layer and peer discovery, and runs them all in its
`run` nursery.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

import trio
from libp2p import new_host
from libp2p.abc import INetConn, INetStream, INetwork, INotifee
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.pubsub.gossipsub import GossipSub
from libp2p.tools.anyio_service import background_trio_service
from multiaddr import Multiaddr
from pydantic import BaseModel, Field

from .discovery import Discovery, PeerRecord
from .exceptions import ListenError
from .gate import PeerGate, guard_host
from .gossip import Gossip
from .identity import load_or_create_key, peer_id_of, sign
from .libp2p_fixes import (
    TolerantPubsub,
    atomic_yamux_writes,
    batched_window_updates,
    cached_local_record,
    remember_peer_records,
)
from .rpc import Rpc
from .swarm_key import check_hex_key

atomic_yamux_writes()
remember_peer_records()
batched_window_updates()
cached_local_record()

log = logging.getLogger(__name__)

GOSSIPSUB_PROTOCOLS = [TProtocol("/meshsub/1.1.0"), TProtocol("/meshsub/1.0.0")]


class SwarmConfig(BaseModel):
    """How a node joins the network."""

    listen_host: str = "0.0.0.0"
    port: int = Field(0, ge=0, le=65535)
    bootstrap: list[str] = Field(default_factory=list)
    swarm_key: str | None = None  # 64 hex chars: a private network's PSK
    target_peers: int = Field(8, ge=1)
    gossip_heartbeat: float = Field(1.0, gt=0)
    allow_peers: list[str] | None = None  # None: any peer may connect


class Swarm:
    """A running libp2p host plus our gossip, RPC and discovery on top."""

    def __init__(self, repo: Path, config: SwarmConfig) -> None:
        self.config = config
        self._key = load_or_create_key(repo)
        self.peer_id = peer_id_of(self._key)
        psk = None if config.swarm_key is None else check_hex_key(config.swarm_key)
        self.host = new_host(
            key_pair=self._key,
            psk=psk,
            muxer_preference="YAMUX",
            # peers are found and kept by our Discovery; libp2p's auto-connector
            # would otherwise redial every peer it ever saw, every 30 s
            connection_config=ConnectionConfig(
                min_connections=0, low_watermark=0, max_connections_per_peer=2
            ),
        )
        self.gossipsub = GossipSub(
            protocols=GOSSIPSUB_PROTOCOLS,
            degree=6,
            degree_low=4,
            degree_high=12,
            heartbeat_initial_delay=0.1,
            heartbeat_interval=config.gossip_heartbeat,  # type: ignore[arg-type]
            max_messages_per_topic_per_second=10_000.0,
            time_to_live=30,
        )
        self.gate = PeerGate(config.allow_peers)
        guard_host(self.host, self.gate)
        self.pubsub = TolerantPubsub(self.host, self.gossipsub)
        self.rpc = Rpc(self.host)
        self.gossip = Gossip(self.pubsub, self.peer_id, admits=self.gate.allows)
        self.discovery: Discovery | None = None
        self.addrs: list[str] = []

    def sign(self, data: bytes) -> bytes:
        """`data` signed with this node's identity key (see identity.verify)."""
        return sign(self._key, data)

    def on_peer_gone(self, callback: Callable[[str], None]) -> None:
        """Call `callback(peer_id)` when the last connection to a peer closes."""
        self.host.get_network().register_notifee(_PeerGone(callback))

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run until cancelled; then hang up on every peer before libp2p stops.

        libp2p runs in a shielded scope of its own, so cancelling this task
        does not tear it down mid-close (py-libp2p then leaves connections
        open and peers keep a dead one); the `finally` closes the network
        while libp2p still works, and only then cancels it.
        """
        libp2p = trio.CancelScope(shield=True)
        async with trio.open_nursery() as nursery:
            await nursery.start(self._run_libp2p, libp2p)
            await nursery.start(self.rpc.run)
            self.discovery = Discovery(
                self.host,
                self.rpc,
                PeerRecord(ID=self.peer_id, Addrs=self.addrs),
                self.config.bootstrap,
                target_peers=self.config.target_peers,
                admits=self.gate.allows,
            )
            try:
                await nursery.start(self.discovery.run)
                log.info("swarm up: %s", ", ".join(self.p2p_addrs))
                task_status.started()
                await trio.sleep_forever()
            finally:
                with (
                    trio.CancelScope(shield=True),
                    trio.move_on_after(2),
                    contextlib.suppress(Exception),
                ):
                    await self.host.get_network().close()
                libp2p.cancel()

    async def _run_libp2p(
        self, scope: trio.CancelScope, *, task_status: trio.TaskStatus[None]
    ) -> None:
        listen = Multiaddr(f"/ip4/{self.config.listen_host}/tcp/{self.config.port}")
        with scope:
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(self.host.run([listen]))
                await stack.enter_async_context(background_trio_service(self.pubsub))
                await stack.enter_async_context(background_trio_service(self.gossipsub))
                await self.pubsub.wait_until_ready()
                self.addrs = announce_addrs(self.host.get_addrs())
                if not self.addrs:  # py-libp2p logs a failed listen and goes on
                    host, port = self.config.listen_host, self.config.port
                    raise ListenError(f"{host}:{port}", *_bind_problem(host, port))
                task_status.started()
                await trio.sleep_forever()

    @property
    def p2p_addrs(self) -> list[str]:
        """Full multiaddrs (with /p2p/<id>) that other nodes can dial."""
        return [f"{a}/p2p/{self.peer_id}" for a in self.addrs]

    def connected_peers(self) -> set[str]:
        return {str(p.to_base58()) for p in self.host.get_connected_peers()}


class _PeerGone(INotifee):
    """libp2p notifee that reports peers we no longer hold any connection to."""

    def __init__(self, callback: Callable[[str], None]) -> None:
        self._callback = callback

    async def disconnected(self, network: INetwork, conn: INetConn) -> None:
        peer = conn.muxed_conn.peer_id
        if not network.get_connections(peer):
            self._callback(str(peer.to_base58()))

    async def opened_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def closed_stream(self, network: INetwork, stream: INetStream) -> None:
        pass

    async def connected(self, network: INetwork, conn: INetConn) -> None:
        pass

    async def listen(self, network: INetwork, multiaddr: Multiaddr) -> None:
        pass

    async def listen_close(self, network: INetwork, multiaddr: Multiaddr) -> None:
        pass


def announce_addrs(bound: list[Multiaddr]) -> list[str]:
    """Dialable forms of the bound addresses, without the /p2p/ suffix."""
    out: list[str] = []
    for addr in bound:
        text = str(addr).split("/p2p/")[0]
        if "/ip4/0.0.0.0/" in text:
            for ip in _local_ips():
                out.append(text.replace("/ip4/0.0.0.0/", f"/ip4/{ip}/"))
        else:
            out.append(text)
    return list(dict.fromkeys(out))


def _bind_problem(host: str, port: int) -> tuple[str, int | None]:
    """Why `host`:`port` cannot be listened on (and the errno), found by
    trying it."""
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        return (exc.strerror or str(exc)).lower(), exc.errno
    return "the listener did not start", None


def _local_ips() -> list[str]:
    ips = ["127.0.0.1"]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this picks a route
            ips.append(s.getsockname()[0])
    except OSError:
        pass
    return ips
