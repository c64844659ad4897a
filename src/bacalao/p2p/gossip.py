"""Typed gossipsub topics: publish models, receive validated models.

Gossip is lossy and fire-and-forget. Every message on a topic is one pydantic
model encoded as JSON and signed by its sender (strict signing). A message
that does not decode, or that a topic's `check` refuses (e.g. a node-info
claiming another node's ID), is dropped and logged and never forwarded.

Each subscription is drained by its own task that hands the decoded model to
the topic's handler at once, so py-libp2p's small per-subscription queue
never fills up. Handlers must not block: they update memory or queue work.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import trio
from libp2p.peer.id import ID
from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Topic(Generic[M]):
    """A gossip topic and the model its messages carry.

    `check(sender_peer_id, message)` returns a reason to drop the message, or
    None to accept it; it runs after decoding, before forwarding.
    """

    name: str
    model: type[M]
    check: Callable[[str, M], str | None] = field(default=lambda _sender, _msg: None)

    def decode(self, sender: str, data: bytes) -> M:
        """Decode and check one message; `ValueError` says why it is refused."""
        message = self.model.model_validate_json(data)
        reason = self.check(sender, message)
        if reason is not None:
            raise ValueError(reason)
        return message


@dataclass
class GossipStats:
    """Counters of one node's gossip traffic (a snapshot is a copy)."""

    published: int = 0
    delivered: int = 0
    dropped_invalid: int = 0


class Gossip:
    """Publishes and subscribes typed topics on one py-libp2p `Pubsub`."""

    def __init__(self, pubsub: Any, own_id: str) -> None:
        self._pubsub = pubsub
        self._own_id = own_id
        self.stats = GossipStats()
        # messages the validator decoded, for the reader (each is decoded once)
        self._decoded: OrderedDict[tuple[str, bytes, bytes], BaseModel] = OrderedDict()

    async def publish(self, topic: Topic[M], message: M) -> None:
        await self._pubsub.publish(topic.name, message.model_dump_json().encode())
        self.stats.published += 1

    async def serve(
        self,
        topic: Topic[M],
        handler: Callable[[str, M], None],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Subscribe to `topic` and call `handler(sender, message)` forever.

        This node's own messages are neither validated (we built them from
        our own models) nor handed to `handler`.
        """

        def validate(sender: ID, msg: Any) -> bool:
            origin = _peer_of(msg)
            if origin == self._own_id:
                return True
            try:
                message = topic.decode(origin, msg.data)
            except (ValidationError, ValueError) as exc:
                self.stats.dropped_invalid += 1
                log.warning(
                    "dropped invalid %s message from %s: %s",
                    topic.name,
                    sender,
                    _one_line(exc),
                )
                return False
            self._decoded[_key(topic, msg)] = message
            while len(self._decoded) > DECODED_KEPT:
                self._decoded.popitem(last=False)
            return True

        self._pubsub.set_topic_validator(topic.name, validate, False)
        subscription = await self._pubsub.subscribe(topic.name)
        task_status.started()
        while True:
            msg = await subscription.get()
            origin = _peer_of(msg)
            if origin == self._own_id:
                continue
            message = self._decoded.pop(_key(topic, msg), None)
            if message is None:
                try:
                    message = topic.decode(origin, msg.data)
                except (ValidationError, ValueError):
                    continue  # counted by the validator
            self.stats.delivered += 1
            try:
                handler(origin, message)  # type: ignore[arg-type]
            except Exception:
                log.exception("handler for %s failed", topic.name)


DECODED_KEPT = 4096


def _key(topic: Topic[Any], msg: Any) -> tuple[str, bytes, bytes]:
    return (topic.name, bytes(msg.from_id), bytes(msg.seqno))


def _peer_of(msg: Any) -> str:
    return str(ID(msg.from_id).to_base58())


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "message"
        return f"{where}: {err['msg']}"
    return str(exc)
