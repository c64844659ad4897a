"""py-libp2p 0.8 defects that only show under load, fixed where we use it.

1. `YamuxStream.write` holds its lock per frame, not per message: once the
   peer's receive window runs out, a message goes out in pieces and a second
   writer's frames land between them. Gossipsub writes to a peer's stream
   from several tasks (its send queue, heartbeat control messages), so under
   load the peer reads a corrupt protobuf. `atomic_yamux_writes()` makes each
   `write()` call whole on the wire, in call order (trio locks are fair).
2. `Pubsub.stream_handler` lets a protobuf `DecodeError` escape, and libp2p's
   connection nursery turns that into the death of the whole node: any peer
   could stop a node by sending one malformed gossip frame. `TolerantPubsub`
   drops that stream, logs the peer, and the node goes on.
3. Every gossipsub RPC carries the sender's signed peer record, and the
   receiver checks its ed25519 signature and rewrites its peerstore entry
   each time: 7-8% of a compute node's CPU under load, for a record that
   changes only when the peer's addresses do. `remember_peer_records()`
   checks a given record once and accepts the same bytes from the same
   peer again for `RECORD_RECHECK` seconds.
4. `YamuxStream` gives the sender back its receive window after every read
   ("release on read"), so each data frame costs a WINDOW_UPDATE frame in
   return: in an idle 10-node swarm 75% of the frames a node sent were
   window updates, each one a Noise encryption and a syscall.
   `batched_window_updates()` restores go-yamux's rule: credit goes back
   once half the window has been consumed.
5. Every gossipsub RPC sent rebuilds the node's listen multiaddrs (base58
   and all) to check that its cached signed record is still current.
   `cached_local_record()` keeps the answer for `LOCAL_RECORD_TTL` seconds.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from typing import Any

import libp2p.pubsub.floodsub
import libp2p.pubsub.gossipsub
import libp2p.pubsub.pubsub
import trio
from google.protobuf.message import DecodeError
from libp2p.abc import IHost, INetStream
from libp2p.peer.id import ID
from libp2p.pubsub.pb.rpc_pb2 import RPC
from libp2p.pubsub.pubsub import Pubsub
from libp2p.stream_muxer.yamux.yamux import YamuxStream

log = logging.getLogger(__name__)

_LOCK_ATTR = "_bacalao_message_lock"
RECORD_RECHECK = 600.0
LOCAL_RECORD_TTL = 5.0


def atomic_yamux_writes() -> None:
    """Make every `YamuxStream.write(data)` put `data` on the wire unbroken
    by other writes to the same stream. Idempotent."""
    frame_write = YamuxStream.write
    if getattr(frame_write, "_bacalao_atomic", False):
        return

    async def write(self: YamuxStream, data: bytes) -> None:
        lock: trio.Lock | None = self.__dict__.get(_LOCK_ATTR)
        if lock is None:
            lock = self.__dict__[_LOCK_ATTR] = trio.Lock()
        async with lock:
            await frame_write(self, data)

    write._bacalao_atomic = True  # type: ignore[attr-defined]
    YamuxStream.write = write  # type: ignore[method-assign]


class TolerantPubsub(Pubsub):
    """Pubsub whose inbound streams survive a peer's malformed frames."""

    async def stream_handler(self, stream: INetStream) -> None:
        try:
            await super().stream_handler(stream)
        except DecodeError as exc:
            peer_id = stream.muxed_conn.peer_id
            log.warning(
                "dropped gossip stream from %s: malformed frame (%s)", peer_id, exc
            )
            await _reset_quietly(stream)
            self._handle_dead_peer(peer_id)


async def _reset_quietly(stream: Any) -> None:
    try:
        await stream.reset()
    except Exception:  # the stream is already broken; nothing more to undo
        log.debug("reset of a broken gossip stream failed", exc_info=True)


def remember_peer_records() -> None:
    """Check each peer's signed record once, not on every gossip RPC. Idempotent."""
    check: Callable[[RPC, IHost, ID], bool] = getattr(  # noqa: B009
        libp2p.pubsub.pubsub, "maybe_consume_signed_record"
    )
    if getattr(check, "_bacalao_remembering", False):
        return
    accepted: dict[ID, tuple[bytes, float]] = {}

    def consume(msg: RPC, host: IHost, peer_id: ID) -> bool:
        if not msg.HasField("senderRecord"):
            return True
        now = time.monotonic()
        seen = accepted.get(peer_id)
        if (
            seen is not None
            and seen[0] == msg.senderRecord
            and now - seen[1] < RECORD_RECHECK
        ):
            return True
        ok = check(msg, host, peer_id)
        if ok:
            accepted[peer_id] = (msg.senderRecord, now)
        return ok

    consume._bacalao_remembering = True  # type: ignore[attr-defined]
    for module in (
        libp2p.pubsub.pubsub,
        libp2p.pubsub.gossipsub,
        libp2p.pubsub.floodsub,
    ):
        module.maybe_consume_signed_record = consume  # type: ignore[attr-defined]


def batched_window_updates() -> None:
    """Send a yamux WINDOW_UPDATE only once half the receive window has been
    read (go-yamux's hysteresis), not after every read. Idempotent."""
    if getattr(YamuxStream._auto_tune_and_send_window_update, "_bacalao", False):
        return

    async def release(self: YamuxStream, *, bytes_read: int = 0) -> None:
        async with self.window_lock:
            buffered = len(self.conn.stream_buffers.get(self.stream_id, b""))
            delta = self.target_recv_window - (self.recv_window + buffered)
            if delta < self.target_recv_window // 2:
                return
            self.recv_window += delta
        await self.send_window_update(delta, skip_lock=True)

    release._bacalao = True  # type: ignore[attr-defined]
    YamuxStream._auto_tune_and_send_window_update = release  # type: ignore[method-assign]


def cached_local_record() -> None:
    """Reuse this node's signed-record envelope for `LOCAL_RECORD_TTL` seconds
    instead of re-deriving its addresses on every gossip RPC. Idempotent."""
    build: Callable[[IHost], tuple[bytes, bool]] = getattr(  # noqa: B009
        libp2p.pubsub.pubsub, "env_to_send_in_RPC"
    )
    if getattr(build, "_bacalao", False):
        return
    cache: weakref.WeakKeyDictionary[IHost, tuple[bytes, float]] = (
        weakref.WeakKeyDictionary()
    )

    def envelope(host: IHost) -> tuple[bytes, bool]:
        now = time.monotonic()
        hit = cache.get(host)
        if hit is not None and now - hit[1] < LOCAL_RECORD_TTL:
            return hit[0], False
        data, fresh = build(host)
        cache[host] = (data, now)
        return data, fresh

    envelope._bacalao = True  # type: ignore[attr-defined]
    for module in (libp2p.pubsub.pubsub, libp2p.pubsub.gossipsub):
        module.env_to_send_in_RPC = envelope  # type: ignore[attr-defined]
