"""Two py-libp2p 0.8 defects that only show under load, fixed where we use it.

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
"""

from __future__ import annotations

import logging
from typing import Any

import trio
from google.protobuf.message import DecodeError
from libp2p.abc import INetStream
from libp2p.pubsub.pubsub import Pubsub
from libp2p.stream_muxer.yamux.yamux import YamuxStream

log = logging.getLogger(__name__)

_LOCK_ATTR = "_bacalao_message_lock"


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
