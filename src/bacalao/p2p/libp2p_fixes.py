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
   It keeps py-libp2p's auto-tuning (the window doubles, up to 16 MiB,
   while a stream moves data fast), without which one stream's throughput
   is capped at window / round trip.
5. Every gossipsub RPC sent rebuilds the node's listen multiaddrs (base58
   and all) to check that its cached signed record is still current.
   `cached_local_record()` keeps the answer for `LOCAL_RECORD_TTL` seconds.
6. A yamux writer whose send window is used up polls for a window update
   every 10 ms (`trio.sleep(0.01)`), so a bulk stream sends one window per
   10 ms at best: about 13 MiB/s per stream here, for bitswap and any big
   transfer. `atomic_yamux_writes()` (which owns `write` anyway, see 1)
   waits on an event the window update sets instead: 7x the throughput.
7. A topic subscribed while the pubsub stream to a new peer is opening is
   never announced to that peer: the hello packet was built before it, and
   the announcement went to the peers already registered. The peer then
   never sends us that topic's messages (until a reconnect).
   `TolerantPubsub` announces to a new peer every topic subscribed while
   it was being added (a repeat of one in the hello packet is harmless).
"""

from __future__ import annotations

import logging
import struct
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
from libp2p.stream_muxer.exceptions import MuxedStreamError
from libp2p.stream_muxer.yamux import yamux
from libp2p.stream_muxer.yamux.yamux import YamuxStream

log = logging.getLogger(__name__)

_LOCK_ATTR = "_bacalao_message_lock"
_WINDOW_ATTR = "_bacalao_send_window"
_EVENT_ATTR = "_bacalao_window_event"
WINDOW_WAIT = 5.0
CLOSED_CHECK = 0.1
RECORD_RECHECK = 600.0
LOCAL_RECORD_TTL = 5.0


def atomic_yamux_writes() -> None:
    """Make every `YamuxStream.write(data)` put `data` on the wire unbroken
    by other writes to the same stream (fix 1), waking on window updates
    instead of polling for them (fix 6). Idempotent."""
    if getattr(YamuxStream.write, "_bacalao_atomic", False):
        return
    YamuxStream.send_window = property(_send_window, _set_send_window)  # type: ignore[assignment]

    async def write(self: YamuxStream, data: bytes) -> None:
        lock: trio.Lock | None = self.__dict__.get(_LOCK_ATTR)
        if lock is None:
            lock = self.__dict__[_LOCK_ATTR] = trio.Lock()
        async with lock:
            if self.send_closed:
                raise MuxedStreamError("Stream is closed for sending")
            sent = 0
            while sent < len(data):
                frame = await _next_frame(self, data, sent)
                if frame is None:
                    await _window_opened(self)
                    continue
                await self.conn._write_frame(frame)
                sent += len(frame) - yamux.HEADER_SIZE

    write._bacalao_atomic = True  # type: ignore[attr-defined]
    YamuxStream.write = write  # type: ignore[method-assign]


def _send_window(stream: YamuxStream) -> int:
    return int(stream.__dict__.get(_WINDOW_ATTR, 0))


def _set_send_window(stream: YamuxStream, value: int) -> None:
    grew = value > stream.__dict__.get(_WINDOW_ATTR, 0)
    stream.__dict__[_WINDOW_ATTR] = value
    event: trio.Event | None = stream.__dict__.get(_EVENT_ATTR)
    if grew and event is not None:
        event.set()


async def _next_frame(stream: YamuxStream, data: bytes, sent: int) -> bytes | None:
    """The next DATA frame of `data` from `sent` on, or None if the send
    window is used up (the window is taken under py-libp2p's locks)."""
    async with stream.rw_lock.write_lock():
        if stream.send_closed:
            raise MuxedStreamError("Stream is closed for sending")
        async with stream.window_lock:
            if stream.closed:
                raise MuxedStreamError("Stream is closed")
            if stream.send_window <= 0:
                return None
            size = min(
                stream.send_window,
                yamux.MAX_MESSAGE_SIZE - yamux.HEADER_SIZE,
                len(data) - sent,
            )
            stream.send_window -= size
            header = struct.pack(
                yamux.YAMUX_HEADER_FORMAT, 0, yamux.TYPE_DATA, 0, stream.stream_id, size
            )
            return header + data[sent : sent + size]


async def _window_opened(stream: YamuxStream) -> None:
    """Wait until the peer grants window (or the stream closes); as
    py-libp2p does, give up after `WINDOW_WAIT` seconds."""
    event = stream.__dict__[_EVENT_ATTR] = trio.Event()
    with trio.move_on_after(WINDOW_WAIT) as scope:
        while not (stream.send_window > 0 or stream.closed):
            with trio.move_on_after(CLOSED_CHECK):  # a close sets no event
                await event.wait()
    if scope.cancelled_caught:
        raise MuxedStreamError(
            f"Timed out waiting for window update after {WINDOW_WAIT:g} seconds."
        )


class TolerantPubsub(Pubsub):
    """Pubsub whose inbound streams survive a peer's malformed frames (fix 2)
    and whose new peers hear of every subscription (fix 7)."""

    async def _handle_new_peer(self, peer_id: ID) -> None:
        before = set(self.topic_ids)
        await super()._handle_new_peer(peer_id)
        queue = self.peer_queues.get(peer_id)
        if peer_id not in self.peers or queue is None:
            return
        for topic in sorted(set(self.topic_ids) - before):
            packet, subopt = self._build_announce_rpc(topic, subscribe=True)
            self._enqueue_or_retry_announce(peer_id, queue, packet, subopt)

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
            delta += self._apply_autotune_epoch(buffered)  # the window grows
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
