"""Three py-libp2p 0.8 defects that only show under load, fixed where we use it.

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
"""

from __future__ import annotations

import logging
import time
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
