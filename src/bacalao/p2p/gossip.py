"""Typed gossipsub topics: publish models, receive validated models.

Gossip is lossy and fire-and-forget. Every message on a topic is one pydantic
model encoded as JSON and signed by its sender (strict signing). A message
that does not decode, or that a topic's `check` refuses (e.g. a node-info
claiming another node's ID), is dropped and never forwarded; it is
counted per topic and per author (messages are signed, so the author is
known even when another peer relays them), and logged at most once per
author per minute: a hostile peer must not fill the disk with warnings.
A message written by a peer the node's allow-list leaves out is dropped
too, even when an allowed peer relays it.

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

from .ratelog import PeerCounts, PeerLog

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
    """Counters of one node's gossip traffic (`Gossip.stats` is live,
    `Gossip.statistics()` a copy).

    `invalid_by_topic` and `invalid_by_peer` break `dropped_invalid` down
    (by peer: for the 1024 peers heard of last); `dropped_unlisted` counts
    messages written by peers the allow-list leaves out. `published` and
    `delivered` are broken down by topic too.
    """

    published: int = 0
    delivered: int = 0
    dropped_invalid: int = 0
    dropped_unlisted: int = 0
    invalid_by_topic: dict[str, int] = field(default_factory=dict)
    invalid_by_peer: dict[str, int] = field(default_factory=dict)
    published_by_topic: dict[str, int] = field(default_factory=dict)
    delivered_by_topic: dict[str, int] = field(default_factory=dict)


class Gossip:
    """Publishes and subscribes typed topics on one py-libp2p `Pubsub`.

    `admits(peer_id)` says whether messages written by a peer are taken
    (the node's allow-list); by default every peer's are.
    """

    def __init__(
        self,
        pubsub: Any,
        own_id: str,
        *,
        admits: Callable[[str], bool] = lambda _peer: True,
    ) -> None:
        self._pubsub = pubsub
        self._own_id = own_id
        self._admits = admits
        self._invalid_by_peer = PeerCounts()
        self.stats = GossipStats(invalid_by_peer=self._invalid_by_peer.live)
        self._log_invalid = PeerLog(log)
        # messages the validator decoded, for the reader (each is decoded once)
        self._decoded: OrderedDict[tuple[str, bytes, bytes], BaseModel] = OrderedDict()

    def statistics(self) -> GossipStats:
        """A snapshot of the counters."""
        stats = self.stats
        return GossipStats(
            published=stats.published,
            delivered=stats.delivered,
            dropped_invalid=stats.dropped_invalid,
            dropped_unlisted=stats.dropped_unlisted,
            invalid_by_topic=dict(stats.invalid_by_topic),
            invalid_by_peer=self._invalid_by_peer.snapshot(),
            published_by_topic=dict(stats.published_by_topic),
            delivered_by_topic=dict(stats.delivered_by_topic),
        )

    def _refuse(self, topic: str, author: str, reason: str) -> None:
        stats = self.stats
        stats.dropped_invalid += 1
        stats.invalid_by_topic[topic] = stats.invalid_by_topic.get(topic, 0) + 1
        self._invalid_by_peer.add(author)
        self._log_invalid(
            author, "dropped invalid %s message from %s: %s", topic, author, reason
        )

    async def publish(self, topic: Topic[M], message: M) -> None:
        await self._pubsub.publish(topic.name, message.model_dump_json().encode())
        self.stats.published += 1
        _count(self.stats.published_by_topic, topic.name)

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
            if not self._admits(origin):
                self.stats.dropped_unlisted += 1
                return False
            try:
                message = topic.decode(origin, msg.data)
            except (ValidationError, ValueError) as exc:
                self._refuse(topic.name, origin, _one_line(exc))
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
            _count(self.stats.delivered_by_topic, topic.name)
            try:
                handler(origin, message)  # type: ignore[arg-type]
            except Exception:
                log.exception("handler for %s failed", topic.name)


DECODED_KEPT = 4096


def _count(counts: dict[str, int], topic: str) -> None:
    counts[topic] = counts.get(topic, 0) + 1


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
