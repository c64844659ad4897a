"""The peer allow-list on real hosts: listed peers connect, others never
reach the node (directly, by RPC, or through gossip relayed by a friend)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio
from libp2p.peer.peerinfo import info_from_p2p_addr
from multiaddr import Multiaddr

from bacalao.models.wire import Ack, Heartbeat
from bacalao.p2p.discovery import PeerRecord
from bacalao.p2p.exceptions import PeerUnreachable
from bacalao.p2p.identity import load_or_create_key, peer_id_of
from bacalao.protocol import PING

from .conftest import WAIT, RunningSwarm, StartSwarm, wait_until
from .test_gossip import TOPIC, publish_until, serve


def _record(running: RunningSwarm) -> PeerRecord:
    return PeerRecord(ID=running.swarm.peer_id, Addrs=running.swarm.addrs)


class Pings:
    """A PING handler that remembers who called."""

    def __init__(self) -> None:
        self.callers: list[str] = []

    async def __call__(self, peer: str, _request: Ack) -> Ack:
        self.callers.append(peer)
        return Ack()


async def test_only_listed_peers_connect(
    start_swarm: StartSwarm, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bacalao.p2p.gate")
    friend_repo, stranger_repo = tmp_path / "friend", tmp_path / "stranger"
    friend_id = peer_id_of(load_or_create_key(friend_repo))
    guarded = await start_swarm(allow_peers=[friend_id])
    pings = Pings()
    guarded.swarm.rpc.register(PING, pings)
    friend = await start_swarm(repo=friend_repo, bootstrap=guarded.swarm.p2p_addrs)
    stranger = await start_swarm(repo=stranger_repo, bootstrap=guarded.swarm.p2p_addrs)

    await wait_until(lambda: friend_id in guarded.swarm.connected_peers())
    with trio.fail_after(WAIT):
        await friend.swarm.rpc.call(guarded.swarm.peer_id, PING, Ack())
    # the stranger completes the secure handshake, is counted, and hung up on
    await wait_until(lambda: guarded.swarm.gate.statistics().refused_inbound >= 2)
    assert stranger.swarm.peer_id not in guarded.swarm.connected_peers()
    with pytest.raises(PeerUnreachable), trio.fail_after(WAIT):
        await stranger.swarm.rpc.call(guarded.swarm.peer_id, PING, Ack(), timeout=5)
    assert pings.callers == [friend_id]

    stats = guarded.swarm.gate.statistics()
    assert stats.allow_list == 1
    assert set(stats.refused_by_peer) == {stranger.swarm.peer_id}
    refusals = [r for r in caplog.records if "allow-list" in r.getMessage()]
    assert len(refusals) == 1  # many attempts, one line a minute
    assert stranger.swarm.peer_id in refusals[0].getMessage()


async def test_unlisted_peers_are_not_dialed(start_swarm: StartSwarm) -> None:
    stranger = await start_swarm()
    friend = await start_swarm()
    guarded = await start_swarm(
        allow_peers=[friend.swarm.peer_id], bootstrap=stranger.swarm.p2p_addrs
    )
    discovery = guarded.swarm.discovery
    assert discovery is not None
    discovery.learn(_record(stranger))
    discovery.learn(_record(friend))
    await wait_until(lambda: friend.swarm.peer_id in guarded.swarm.connected_peers())
    assert stranger.swarm.peer_id not in discovery.book.records

    with pytest.raises(PeerUnreachable), trio.fail_after(WAIT):
        await guarded.swarm.rpc.call(stranger.swarm.peer_id, PING, Ack(), timeout=5)
    stats = guarded.swarm.gate.statistics()
    assert stats.refused_outbound >= 1
    assert stats.refused_inbound == 0  # no socket was ever opened to it
    assert guarded.swarm.peer_id not in stranger.swarm.connected_peers()


async def test_gossip_written_by_an_unlisted_peer_is_dropped_even_when_relayed(
    nursery: trio.Nursery, start_swarm: StartSwarm
) -> None:
    relay = await start_swarm()
    guarded = await start_swarm(allow_peers=[relay.swarm.peer_id])
    stranger = await start_swarm()
    # subscribed before they connect, as a node is: py-libp2p can lose a
    # subscription announced while the pubsub stream to a new peer opens
    guarded_inbox = await serve(nursery, guarded)
    relay_inbox = await serve(nursery, relay)
    await serve(nursery, stranger)
    for joining in (guarded, stranger):
        with trio.fail_after(WAIT):
            await joining.swarm.host.connect(
                info_from_p2p_addr(Multiaddr(relay.swarm.p2p_addrs[0]))
            )
    await wait_until(
        lambda: (
            {guarded.swarm.peer_id, stranger.swarm.peer_id}
            <= relay.swarm.connected_peers()
        )
    )

    # the relay's own messages arrive: the guarded node is in the mesh
    me = relay.swarm.peer_id
    await publish_until(
        lambda: relay.swarm.gossip.publish(TOPIC, Heartbeat(NodeID=me, Seq=1)),
        lambda: guarded_inbox.has(me, 1),
    )
    # the stranger's reach the relay, which forwards them, and are dropped
    them = stranger.swarm.peer_id
    await publish_until(
        lambda: stranger.swarm.gossip.publish(TOPIC, Heartbeat(NodeID=them, Seq=2)),
        lambda: (
            relay_inbox.has(them, 2) and guarded.swarm.gossip.stats.dropped_unlisted > 0
        ),
    )
    assert not any(sender == them for sender, _ in guarded_inbox.got)
    assert them not in guarded.swarm.connected_peers()
