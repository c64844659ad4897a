"""A private network (swarm key): members talk, outsiders cannot connect."""

from __future__ import annotations

from typing import Any

import trio
from libp2p.peer.peerinfo import info_from_p2p_addr
from multiaddr import Multiaddr

from bacalao.models.wire import Heartbeat
from bacalao.p2p.discovery import PeerRecord
from bacalao.p2p.swarm_key import new_swarm_key, parse_swarm_key

from .conftest import WAIT, RunningSwarm, StartSwarm, wait_until
from .test_gossip import TOPIC, publish_until, serve

KEY = parse_swarm_key(new_swarm_key().encode())
OTHER_KEY = parse_swarm_key(new_swarm_key().encode())


def count_dials(running: RunningSwarm) -> list[int]:
    """Count the dials `running` makes from now on (a spy on its host)."""
    host: Any = running.swarm.host
    connect = host.connect
    dials = [0]

    async def counting(info: Any) -> None:
        dials[0] += 1
        await connect(info)

    host.connect = counting
    return dials


async def join(joining: RunningSwarm, member: RunningSwarm) -> None:
    """Connect `joining` to `member`, both already subscribed: py-libp2p can
    lose a subscription announced while the pubsub stream to a new peer
    opens, as nodes avoid by subscribing before they dial."""
    with trio.fail_after(WAIT):
        await joining.swarm.host.connect(
            info_from_p2p_addr(Multiaddr(member.swarm.p2p_addrs[0]))
        )
    await wait_until(lambda: joining.swarm.peer_id in member.swarm.connected_peers())


def _record(running: RunningSwarm) -> PeerRecord:
    return PeerRecord(ID=running.swarm.peer_id, Addrs=running.swarm.addrs)


async def test_nodes_with_the_same_key_connect_and_gossip(
    nursery: trio.Nursery, start_swarm: StartSwarm
) -> None:
    first = await start_swarm(swarm_key=KEY)
    second = await start_swarm(swarm_key=KEY)
    inbox = await serve(nursery, first)  # subscribed first, as a node is
    await serve(nursery, second)
    await join(second, first)
    me = second.swarm.peer_id
    await publish_until(
        lambda: second.swarm.gossip.publish(TOPIC, Heartbeat(NodeID=me, Seq=7)),
        lambda: inbox.has(me, 7),
    )


async def test_outsiders_cannot_connect_and_the_member_carries_on(
    nursery: trio.Nursery, start_swarm: StartSwarm
) -> None:
    member = await start_swarm(swarm_key=KEY)
    wrong_key = await start_swarm(swarm_key=OTHER_KEY)
    no_key = await start_swarm()
    dials = [count_dials(wrong_key), count_dials(no_key)]
    for outsider in (wrong_key, no_key):
        assert outsider.swarm.discovery is not None
        outsider.swarm.discovery.learn(_record(member))
    member_discovery = member.swarm.discovery
    assert member_discovery is not None
    member_discovery.learn(_record(no_key))  # and the member tries the other way

    # each outsider keeps trying, backing off; none of them ever gets in
    await wait_until(lambda: all(d[0] >= 2 for d in dials))
    await trio.sleep(3)
    assert not member.swarm.connected_peers()
    assert not wrong_key.swarm.connected_peers()
    assert not no_key.swarm.connected_peers()
    assert all(d[0] <= 12 for d in dials), dials  # backs off instead of spinning

    # the member is unharmed: a node holding the key still joins and gossips
    friend = await start_swarm(swarm_key=KEY)
    inbox = await serve(nursery, member)
    await serve(nursery, friend)
    await join(friend, member)
    me = friend.swarm.peer_id
    await publish_until(
        lambda: friend.swarm.gossip.publish(TOPIC, Heartbeat(NodeID=me, Seq=1)),
        lambda: inbox.has(me, 1),
    )
    assert member.swarm.connected_peers() == {me}
