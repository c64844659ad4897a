"""Typed gossip across three real swarms found through peer exchange."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import trio

from bacalao import protocol
from bacalao.models.node import NodeInfo
from bacalao.models.wire import Heartbeat
from bacalao.network.signed_info import opened, seal
from bacalao.p2p.gossip import Topic

from .conftest import WAIT, RunningSwarm, StartSwarm, wait_until

TOPIC = Topic(
    "bacalao-test/beat/1",
    Heartbeat,
    lambda sender, m: None if m.NodeID == sender else "not the sender",
)


@dataclass
class Inbox:
    """What one node's handler received: (sender, message) pairs."""

    got: list[tuple[str, Heartbeat]] = field(default_factory=list)

    def __call__(self, sender: str, message: Heartbeat) -> None:
        self.got.append((sender, message))

    def has(self, sender: str, seq: int) -> bool:
        return (sender, Heartbeat(NodeID=sender, Seq=seq)) in self.got


@pytest.fixture
async def trio_of_swarms(start_swarm: StartSwarm) -> list[RunningSwarm]:
    """Three swarms; the 2nd and 3rd only know the 1st."""
    first = await start_swarm()
    others = [await start_swarm(bootstrap=first.swarm.p2p_addrs) for _ in range(2)]
    return [first, *others]


def _fully_connected(swarms: list[RunningSwarm]) -> bool:
    return all(
        {o.swarm.peer_id for o in swarms if o is not s} <= s.swarm.connected_peers()
        for s in swarms
    )


async def serve(nursery: trio.Nursery, running: RunningSwarm) -> Inbox:
    inbox = Inbox()
    with trio.fail_after(WAIT):
        await nursery.start(running.swarm.gossip.serve, TOPIC, inbox)
    return inbox


async def publish_until(
    publish: Callable[[], Awaitable[None]],
    arrived: Callable[[], bool],
    *,
    every: float = 0.3,
    timeout: float = WAIT,
) -> None:
    """Gossip is lossy until the mesh forms: publish again until it arrives."""
    with trio.fail_after(timeout):
        while True:
            await publish()
            with trio.move_on_after(every):
                while not arrived():
                    await trio.sleep(0.02)
            if arrived():
                return


async def test_peer_exchange_connects_everyone(
    trio_of_swarms: list[RunningSwarm],
) -> None:
    await wait_until(lambda: _fully_connected(trio_of_swarms))
    second, third = trio_of_swarms[1].swarm, trio_of_swarms[2].swarm
    assert second.discovery is not None
    assert third.discovery is not None
    books = (second.discovery.book.records, third.discovery.book.records)
    # each remembers the other's address, to find it again after a restart
    await wait_until(lambda: third.peer_id in books[0] and second.peer_id in books[1])
    assert books[0][third.peer_id].Addrs == third.addrs


async def test_typed_message_reaches_every_other_node(
    nursery: trio.Nursery, trio_of_swarms: list[RunningSwarm]
) -> None:
    await wait_until(lambda: _fully_connected(trio_of_swarms))
    inboxes = [await serve(nursery, s) for s in trio_of_swarms]
    sender = trio_of_swarms[1].swarm
    me = sender.peer_id

    await publish_until(
        lambda: sender.gossip.publish(TOPIC, Heartbeat(NodeID=me, Seq=1)),
        lambda: inboxes[0].has(me, 1) and inboxes[2].has(me, 1),
    )
    for running in (trio_of_swarms[0], trio_of_swarms[2]):
        stats = running.swarm.gossip.stats
        assert stats.delivered >= 1
        assert stats.dropped_invalid == 0
    assert sender.gossip.stats.published >= 1
    assert not inboxes[1].has(me, 1)  # a node's own messages are not handed back


async def test_garbage_published_raw_is_dropped_by_the_receivers(
    nursery: trio.Nursery, trio_of_swarms: list[RunningSwarm]
) -> None:
    """A node trusts what it publishes itself; every receiver validates."""
    await wait_until(lambda: _fully_connected(trio_of_swarms))
    inboxes = [await serve(nursery, s) for s in trio_of_swarms]
    sender = trio_of_swarms[0].swarm
    me = sender.peer_id
    await publish_until(
        lambda: sender.gossip.publish(TOPIC, Heartbeat(NodeID=me, Seq=1)),
        lambda: all(i.has(me, 1) for i in inboxes[1:]),
    )

    await sender.pubsub.publish(TOPIC.name, b"garbage")
    receivers = [r.swarm.gossip.stats for r in trio_of_swarms[1:]]
    await wait_until(lambda: all(r.dropped_invalid == 1 for r in receivers))

    await publish_until(
        lambda: sender.gossip.publish(TOPIC, Heartbeat(NodeID=me, Seq=2)),
        lambda: all(i.has(me, 2) for i in inboxes[1:]),
    )
    for inbox in inboxes:
        assert all(isinstance(m, Heartbeat) for _, m in inbox.got)
    assert not any(r.stopped.is_set() for r in trio_of_swarms)


async def test_garbage_is_dropped_by_receivers(
    nursery: trio.Nursery, trio_of_swarms: list[RunningSwarm]
) -> None:
    """A publisher that does not serve the topic sends garbage unchecked;
    receivers drop it, count it, and keep taking valid messages."""
    await wait_until(lambda: _fully_connected(trio_of_swarms))
    publisher = trio_of_swarms[0].swarm
    receivers = trio_of_swarms[1:]
    inboxes = [await serve(nursery, r) for r in receivers]
    me = publisher.peer_id

    def valid(seq: int) -> bytes:
        return Heartbeat(NodeID=me, Seq=seq).model_dump_json().encode()

    await publish_until(
        lambda: publisher.pubsub.publish(TOPIC.name, valid(1)),
        lambda: all(i.has(me, 1) for i in inboxes),
    )
    before = [len(i.got) for i in inboxes]

    await publisher.pubsub.publish(TOPIC.name, b"garbage")
    forged = Heartbeat(NodeID="12D3KooWSomeoneElse").model_dump_json().encode()
    await publisher.pubsub.publish(TOPIC.name, forged)
    await wait_until(
        lambda: all(r.swarm.gossip.stats.dropped_invalid >= 2 for r in receivers)
    )

    await publish_until(
        lambda: publisher.pubsub.publish(TOPIC.name, valid(2)),
        lambda: all(i.has(me, 2) for i in inboxes),
    )
    for inbox, count in zip(inboxes, before, strict=True):
        later = [m for _, m in inbox.got[count:]]
        assert all(m.NodeID == me for m in later)  # neither garbage nor forgery
    assert not any(r.stopped.is_set() for r in trio_of_swarms)


async def test_forged_node_info_never_reaches_handlers(
    nursery: trio.Nursery, start_swarm: StartSwarm
) -> None:
    first = await start_swarm()
    seen: list[str] = []
    # subscribed before second connects, as a node is: py-libp2p can lose a
    # subscription announced while the pubsub stream to a new peer opens
    await nursery.start(
        first.swarm.gossip.serve,
        protocol.NODE_INFO,
        lambda _s, m: seen.append(opened(m).NodeID),
    )
    second = await start_swarm(bootstrap=first.swarm.p2p_addrs)
    await wait_until(lambda: first.swarm.peer_id in second.swarm.connected_peers())
    me = second.swarm.peer_id

    def info(node_id: str) -> bytes:
        # sealed with second's own key, whatever node it claims to be
        signed = seal(NodeInfo(NodeID=node_id), second.swarm.sign)
        return signed.model_dump_json().encode()

    # an honest one first: the path from second to first works
    await publish_until(
        lambda: second.swarm.pubsub.publish(protocol.NODE_INFO.name, info(me)),
        lambda: me in seen,
    )
    # then a forgery (second speaking for first): it arrives and is dropped
    # (after it, gossipsub may prune second for a while: not what we test)
    await publish_until(
        lambda: second.swarm.pubsub.publish(
            protocol.NODE_INFO.name, info(first.swarm.peer_id)
        ),
        lambda: first.swarm.gossip.stats.dropped_invalid > 0,
    )
    assert first.swarm.peer_id not in seen
