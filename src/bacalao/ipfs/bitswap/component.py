"""`Bitswap`: the bitswap component of a node, on the swarm's libp2p host.

It registers the bitswap protocols (1.2.0, 1.1.0, 1.0.0 by default) on
the host, reads every inbound stream (Kubo opens one per batch of
messages, or keeps one open: both work), hands wants to the `Server` and
blocks and presences to the `Client`, and owns the nursery in which links,
server workers and the keepers of external peers run. A stream whose
bytes are not bitswap is reset and counted; the node keeps serving.

External IPFS peers (`add_peer(multiaddr)`, from `--ipfs-peer`) are
dialled, redialled with backoff whenever they drop, and asked by every
fetch in addition to the providers it names.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import trio
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.peerinfo import info_from_p2p_addr
from multiaddr import Multiaddr

from ...p2p.host import Swarm
from ..blocks import Blocks
from ..cid import CID
from .client import DEFAULT_NO_PROGRESS, MAX_FANOUT, Client
from .exceptions import BitswapError, MalformedMessage, ProviderUnreachable
from .links import Link, LinkPool
from .server import MAX_BYTES_IN_FLIGHT, Server
from .wire import PROTOCOLS, FrameDecoder, decode_message

log = logging.getLogger(__name__)

READ_CHUNK = 1024 * 1024
DIAL_TIMEOUT = 10.0
REDIAL_MAX = 30.0
RECHECK = 5.0


@dataclass(frozen=True)
class BitswapStatistics:
    """A snapshot of what bitswap has done since it started."""

    blocks_sent: int
    bytes_sent: int
    blocks_received: int
    bytes_received: int
    duplicate_blocks: int
    bad_blocks: int
    malformed_streams: int
    wants_ignored: int
    external_peers: tuple[str, ...]


class Bitswap:
    """Serves blocks from `blocks` and fetches blocks into it, over `swarm`."""

    def __init__(
        self,
        swarm: Swarm,
        blocks: Blocks,
        *,
        protocols: Sequence[str] = PROTOCOLS,
        max_fanout: int = MAX_FANOUT,
        max_bytes_in_flight: int = MAX_BYTES_IN_FLIGHT,
    ) -> None:
        self._swarm = swarm
        self._host = swarm.host
        self._protocols = tuple(protocols)
        self._links = LinkPool(self._host, self._protocols, self._link_changed)
        self.server = Server(
            blocks, self._links, max_bytes_in_flight=max_bytes_in_flight
        )
        self.client = Client(
            blocks,
            self._links,
            candidates=self._candidates,
            always=lambda: list(self._external.values()),
            connect=self.connect,
            on_new_blocks=self.server.notify_new_blocks,
            self_id=swarm.peer_id,
            max_fanout=max_fanout,
        )
        self.malformed_streams = 0
        self._external: dict[str, str] = {}  # multiaddr -> peer id
        self._gone: dict[str, trio.Event] = {}
        self._inbound: set[Any] = set()
        self._nursery: trio.Nursery | None = None

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve and fetch until cancelled."""
        async with trio.open_nursery() as nursery:
            self._links.attach(nursery)
            self.server.attach(nursery)
            self._nursery = nursery
            for protocol in self._protocols:
                self._host.set_stream_handler(TProtocol(protocol), self._on_stream)
            self._swarm.on_peer_gone(self._peer_gone)
            for address in self._external:
                nursery.start_soon(self._keep_external, address)
            try:
                task_status.started()
                await trio.sleep_forever()
            finally:
                self._nursery = None
                self._links.attach(None)
                self.server.attach(None)
                for protocol in self._protocols:
                    self._host.remove_stream_handler(TProtocol(protocol))
                with trio.CancelScope(shield=True), trio.move_on_after(2):
                    for stream in list(self._inbound):
                        await _reset_quietly(stream)

    # -- the public API ------------------------------------------------------

    def get_blocks(
        self,
        cids: Iterable[CID],
        *,
        providers: Sequence[str] | None = None,
        no_progress_timeout: float = DEFAULT_NO_PROGRESS,
    ) -> AsyncGenerator[tuple[CID, bytes], None]:
        """See `Client.get_blocks`; `BitswapError` if bitswap is not running."""
        self._check_running()
        return self.client.get_blocks(
            cids, providers=providers, no_progress_timeout=no_progress_timeout
        )

    async def get_block(
        self,
        cid: CID,
        *,
        providers: Sequence[str] | None = None,
        no_progress_timeout: float = DEFAULT_NO_PROGRESS,
    ) -> bytes:
        """See `Client.get_block`; `BitswapError` if bitswap is not running."""
        self._check_running()
        return await self.client.get_block(
            cid, providers=providers, no_progress_timeout=no_progress_timeout
        )

    def notify_new_blocks(self, cids: Iterable[CID]) -> None:
        """Call after putting blocks into the store: peers waiting get them."""
        self.server.notify_new_blocks(cids)

    def add_peer(self, address: str) -> str:
        """Keep the IPFS peer at `address` (a multiaddr with /p2p/<id>)
        connected and ask it in every fetch; returns its peer ID."""
        peer = _peer_of(address)
        if address not in self._external:
            self._external[address] = peer
            if self._nursery is not None:
                self._nursery.start_soon(self._keep_external, address)
        return peer

    async def connect(self, address: str) -> str:
        """Dial a multiaddr with /p2p/<id> once; returns the peer ID.
        `ProviderUnreachable` says why not."""
        peer = _peer_of(address)
        try:
            with trio.fail_after(DIAL_TIMEOUT):
                await self._host.connect(info_from_p2p_addr(Multiaddr(address)))
        except (BaseLibp2pError, OSError, trio.TooSlowError, ExceptionGroup) as exc:
            raise ProviderUnreachable(address, str(exc) or type(exc).__name__) from exc
        return peer

    def _check_running(self) -> None:
        if self._nursery is None:
            raise BitswapError("bitswap is not running: start Bitswap.run first")

    def statistics(self) -> BitswapStatistics:
        return BitswapStatistics(
            blocks_sent=self.server.blocks_sent,
            bytes_sent=self.server.bytes_sent,
            blocks_received=self.client.blocks_received,
            bytes_received=self.client.bytes_received,
            duplicate_blocks=self.client.duplicate_blocks,
            bad_blocks=self.client.bad_blocks,
            malformed_streams=self.malformed_streams,
            wants_ignored=self.server.wants_ignored,
            external_peers=tuple(self._external.values()),
        )

    # -- inbound streams -----------------------------------------------------

    async def _on_stream(self, stream: Any) -> None:
        peer = str(stream.muxed_conn.peer_id)
        decoder = FrameDecoder()
        self._inbound.add(stream)
        try:
            while chunk := await _read(stream):
                for body in decoder.feed(chunk):
                    self._dispatch(peer, body)
            await _close_quietly(stream)  # the peer is done sending
        except MalformedMessage as exc:
            self.malformed_streams += 1
            log.warning("bitswap: dropped a stream from %s: %s", peer, exc)
            await _reset_quietly(stream)
        except (BaseLibp2pError, OSError, EOFError) as exc:
            if not decoder.idle:
                log.debug("bitswap stream from %s ended mid-frame: %r", peer, exc)
        except Exception:
            # libp2p would let this end the whole node: drop only this stream
            log.exception("bitswap: failed on a message from %s", peer)
            await _reset_quietly(stream)
        finally:
            self._inbound.discard(stream)

    def _dispatch(self, peer: str, body: bytes) -> None:
        if self._nursery is None:
            return
        msg = decode_message(body)
        if msg.entries or msg.full:
            self.server.on_wantlist(peer, msg.entries, full=msg.full)
        if msg.payload or msg.blocks or msg.presences:
            self.client.receive(peer, msg)

    # -- peers ---------------------------------------------------------------

    def _candidates(self) -> list[str]:
        peers = self._swarm.connected_peers()
        peers.discard(self._swarm.peer_id)
        return sorted(peers)

    def _link_changed(self, link: Link) -> None:
        self.client.on_link(link)

    def _peer_gone(self, peer: str) -> None:
        self._links.close(peer)
        self.server.peer_gone(peer)
        event = self._gone.pop(peer, None)
        if event is not None:
            event.set()

    async def _keep_external(self, address: str) -> None:
        peer = self._external[address]
        delay = 1.0
        while True:
            if peer in self._swarm.connected_peers():
                event = self._gone.setdefault(peer, trio.Event())
                with trio.move_on_after(RECHECK):
                    await event.wait()
                continue
            try:
                await self.connect(address)
                log.info("bitswap: connected to IPFS peer %s", address)
                delay = 1.0
            except ProviderUnreachable as exc:
                log.info("bitswap: %s; retrying in %g s", exc, delay)
                await trio.sleep(delay)
                delay = min(delay * 2, REDIAL_MAX)


def _peer_of(address: str) -> str:
    try:
        return str(info_from_p2p_addr(Multiaddr(address)).peer_id)
    except Exception as exc:  # multiaddr raises many types for bad text
        raise ProviderUnreachable(
            address, f"not a multiaddr with /p2p/<peer id> ({exc})"
        ) from None


async def _read(stream: Any) -> bytes:
    """The next bytes of an inbound stream; b"" once the peer closed it."""
    try:
        data: bytes = await stream.read(READ_CHUNK)
    except EOFError:
        return b""
    return data


async def _close_quietly(stream: Any) -> None:
    with trio.move_on_after(1), contextlib.suppress(Exception):
        await stream.close()


async def _reset_quietly(stream: Any) -> None:
    with trio.move_on_after(1), contextlib.suppress(Exception):
        await stream.reset()
