"""Node liveness: latest info wins, quiet nodes are lost once, and come back."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import trio
import trio.testing

from bacalao.models.wire import Heartbeat, NodesRequest, NodesResponse
from bacalao.network.announce import Announcer
from bacalao.network.nodes import NodeManager, Probe
from bacalao.network.signed_info import opened, seal
from bacalao.p2p.discovery import PeerRecord
from bacalao.p2p.rpc import HandlerError
from bacalao.protocol import NODES

from .support import make_node, peer, signed_node

TIMEOUT = 10.0


def manager() -> NodeManager:
    return NodeManager("self", timeout=TIMEOUT)


def lost_log(nodes: NodeManager) -> list[tuple[str, str]]:
    lost: list[tuple[str, str]] = []
    nodes.on_lost(lambda node_id, reason: lost.append((node_id, reason)))
    return lost


async def test_new_node_is_recorded_and_connected(
    mock_clock: trio.testing.MockClock,
) -> None:
    nodes = manager()
    assert nodes.observe_info(make_node("a", Seq=1))
    assert nodes.is_connected("a")
    info = nodes.get("a")
    assert info is not None
    assert info.Seq == 1
    assert nodes.get("ghost") is None
    assert not nodes.is_connected("ghost")


async def test_newer_info_replaces_older(mock_clock: trio.testing.MockClock) -> None:
    nodes = manager()
    nodes.observe_info(make_node("a", Seq=1, labels={"v": "1"}))
    assert nodes.observe_info(make_node("a", Seq=2, labels={"v": "2"}))
    info = nodes.get("a")
    assert info is not None
    assert info.Labels == {"v": "2"}


async def test_stale_info_is_ignored(mock_clock: trio.testing.MockClock) -> None:
    nodes = manager()
    nodes.observe_info(make_node("a", Seq=5, labels={"v": "new"}))
    assert not nodes.observe_info(make_node("a", Seq=4, labels={"v": "old"}))
    info = nodes.get("a")
    assert info is not None
    assert info.Labels == {"v": "new"}


async def test_repeated_info_is_not_a_change(
    mock_clock: trio.testing.MockClock,
) -> None:
    nodes = manager()
    info = make_node("a", Seq=1)
    nodes.observe_info(info)
    assert not nodes.observe_info(info.model_copy())


async def test_quiet_node_is_lost_once(mock_clock: trio.testing.MockClock) -> None:
    nodes = manager()
    lost = lost_log(nodes)
    nodes.observe_info(make_node("a"))
    nodes.observe_info(make_node("b"))
    mock_clock.jump(6)
    nodes.observe_alive("b")
    mock_clock.jump(5)
    assert nodes.expire(trio.current_time()) == ["a"]
    assert [node_id for node_id, _ in lost] == ["a"]
    assert "stopped responding (silent for" in lost[0][1]
    assert not nodes.is_connected("a")
    assert nodes.is_connected("b")
    mock_clock.jump(100)
    nodes.expire(trio.current_time())
    nodes.expire(trio.current_time())
    assert [node_id for node_id, _ in lost] == ["a", "b"]


async def test_exactly_at_timeout_is_still_connected(
    mock_clock: trio.testing.MockClock,
) -> None:
    nodes = manager()
    nodes.observe_info(make_node("a"))
    mock_clock.jump(TIMEOUT)
    assert nodes.expire(trio.current_time()) == []


async def test_own_node_never_expires(mock_clock: trio.testing.MockClock) -> None:
    nodes = manager()
    lost = lost_log(nodes)
    nodes.observe_info(make_node("self"))
    mock_clock.jump(1000)
    assert nodes.expire(trio.current_time()) == []
    assert lost == []
    assert nodes.is_connected("self")


async def test_lost_node_heard_again_is_connected(
    mock_clock: trio.testing.MockClock,
) -> None:
    nodes = manager()
    lost = lost_log(nodes)
    nodes.observe_info(make_node("a", Seq=1))
    mock_clock.jump(11)
    nodes.expire(trio.current_time())
    assert not nodes.is_connected("a")
    # a stale copy (another node's table, a late gossip) is not a sign of life
    assert not nodes.observe_info(make_node("a", Seq=1))
    assert not nodes.is_connected("a")
    assert nodes.observe_info(make_node("a", Seq=2))  # fresh info: it is back
    assert nodes.is_connected("a")
    state = next(s for s in nodes.states() if s.Info.NodeID == "a")
    assert state.Connection == "CONNECTED"
    assert state.ConnectionState.DisconnectedSince is None
    mock_clock.jump(11)
    nodes.expire(trio.current_time())
    assert [node_id for node_id, _ in lost] == ["a", "a"]  # once per loss


async def test_heartbeat_brings_a_node_back(mock_clock: trio.testing.MockClock) -> None:
    nodes = manager()
    nodes.observe_info(make_node("a"))
    mock_clock.jump(11)
    nodes.expire(trio.current_time())
    nodes.observe_alive("a")
    assert nodes.is_connected("a")
    nodes.observe_alive("never-heard-of")  # ignored: no info yet
    assert nodes.get("never-heard-of") is None


async def test_views_and_states_report_liveness(
    mock_clock: trio.testing.MockClock,
) -> None:
    nodes = manager()
    nodes.observe_info(make_node("a"))
    nodes.observe_info(make_node("b"))
    mock_clock.jump(4)
    nodes.observe_alive("b")
    mock_clock.jump(7)
    nodes.expire(trio.current_time())
    views = {v.node_id: v for v in nodes.views()}
    assert (views["a"].connected, views["a"].seen_ago) == (False, 11)
    assert (views["b"].connected, views["b"].seen_ago) == (True, 7)
    states = {s.Info.NodeID: s for s in nodes.states()}
    assert states["a"].Connection == "DISCONNECTED"
    assert states["a"].ConnectionState.Status == "DISCONNECTED"
    assert states["a"].ConnectionState.DisconnectedSince is not None


async def test_run_expires_quiet_nodes_by_itself(
    autojump_clock: trio.testing.MockClock,
) -> None:
    nodes = manager()
    lost = lost_log(nodes)
    nodes.observe_info(make_node("a"))
    async with trio.open_nursery() as nursery:
        await nursery.start(nodes.run)
        with trio.fail_after(TIMEOUT * 2):
            while not lost:
                await nodes.changed.wait()
        assert trio.current_time() > TIMEOUT
        nursery.cancel_scope.cancel()
    assert [node_id for node_id, _ in lost] == ["a"]


async def test_changes_wake_waiters(mock_clock: trio.testing.MockClock) -> None:
    nodes = manager()
    woke = trio.Event()

    async def wait() -> None:
        await nodes.changed.wait()
        woke.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait)
        await trio.testing.wait_all_tasks_blocked()
        nodes.observe_info(make_node("a"))
        with trio.fail_after(1):
            await woke.wait()


def announcer(node_id: str, labels: dict[str, str], **swarm: Any) -> Announcer:
    """An Announcer on a fake swarm with a real identity (`node_id` names
    it: see support.peer); `swarm` adds to or replaces its parts."""
    who = peer(node_id)
    node_id = who.id
    fake = {
        "peer_id": node_id,
        "gate": SimpleNamespace(allows=lambda _peer: True),
        "sign": who.sign,
        "rpc": SimpleNamespace(register=lambda *_: None),
        "discovery": None,
        **swarm,
    }
    return Announcer(
        SimpleNamespace(**fake),  # type: ignore[arg-type]
        NodeManager(node_id, timeout=TIMEOUT),
        build_info=lambda: make_node(node_id, labels=labels),
        info_interval=30,
        heartbeat_interval=5,
    )


async def test_restarted_node_info_is_not_ignored(
    mock_clock: trio.testing.MockClock,
) -> None:
    """A node restarts (same peer ID) with new labels: others must see them."""
    observer = manager()
    before = announcer("n-1", {"gpu": "none"})
    for _ in range(20):
        observer.observe_info(before.current_info())
        mock_clock.jump(1)
    after_restart = announcer("n-1", {"gpu": "a100"})
    observer.observe_info(after_restart.current_info())
    info = observer.get(peer("n-1").id)
    assert info is not None
    assert info.Labels == {"gpu": "a100"}


async def test_quiet_node_that_answers_a_probe_stays_connected(
    mock_clock: trio.testing.MockClock,
) -> None:
    answers = {"busy": Probe.ALIVE, "dead": None}
    asked: list[str] = []

    async def probe(node_id: str) -> Probe | None:
        asked.append(node_id)
        return answers[node_id]

    mock_clock.autojump_threshold = 0
    nodes = NodeManager("self", timeout=TIMEOUT, probe=probe)
    lost = lost_log(nodes)
    nodes.observe_info(make_node("busy"))
    nodes.observe_info(make_node("dead"))
    async with trio.open_nursery() as nursery:
        await nursery.start(nodes.run)
        mock_clock.jump(TIMEOUT + 1)
        while not lost:
            await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    assert sorted(set(asked)) == ["busy", "dead"]
    assert [node_id for node_id, _ in lost] == ["dead"]
    assert nodes.is_connected("busy")
    assert not nodes.is_connected("dead")


async def test_node_not_yet_heard_waits_for_the_swarms_heartbeat_pace(
    mock_clock: trio.testing.MockClock,
) -> None:
    """In a big swarm heartbeats are slow: a node learned from someone's table
    is not suspected before it had the chance to send a few."""
    nodes = manager()
    nodes.expected_interval = 25.0  # 50 nodes at two heartbeats a second in all
    nodes.observe_info(make_node("a"))
    mock_clock.jump(TIMEOUT + 1)
    assert nodes.suspects(trio.current_time()) == []
    mock_clock.jump(100)
    assert nodes.suspects(trio.current_time()) == ["a"]


async def test_dropped_connection_is_probed_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A peer whose connection closed is asked right away, not after its
    heartbeats have been missed; a dead one is lost within a second."""

    async def probe(node_id: str) -> Probe | None:
        return Probe.GONE if node_id == "a" else None

    nodes = NodeManager("self", timeout=TIMEOUT, probe=probe)
    nodes.expected_interval = 25.0
    lost = lost_log(nodes)
    nodes.observe_info(make_node("a"))
    nodes.observe_info(make_node("slow"))
    async with trio.open_nursery() as nursery:
        await nursery.start(nodes.run)
        nodes.peer_gone("a")
        nodes.peer_gone("slow")  # no answer in time: not proof, it stays
        nodes.peer_gone("never-heard-of")  # ignored
        with trio.fail_after(1):
            while not lost:
                await nodes.changed.wait()
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert [node_id for node_id, _ in lost] == ["a"]
    assert nodes.is_connected("slow")


async def test_heartbeat_from_a_node_that_knows_more_pulls_its_table(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A node missed by gossip catches up: the heartbeat of a peer that knows
    more nodes makes it ask that peer for its node table."""
    table = [signed_node(peer(name)) for name in ("big", "b", "c", "d")]
    asked: list[tuple[str, object]] = []

    async def call(
        peer: str, method: object, request: NodesRequest, *, timeout: float
    ) -> NodesResponse:
        asked.append((peer, method))
        return NodesResponse(Nodes=table)

    joined = trio.Event()
    joined.set()
    me = announcer(
        "self",
        {},
        rpc=SimpleNamespace(register=lambda *_: None, call=call),
        discovery=SimpleNamespace(joined=joined, learn=lambda _: None),
        connected_peers=lambda: [],
    )
    big = peer("big").id
    me.current_info()
    me.nodes.observe_info(make_node(big))
    assert me.nodes.count() == 2
    me._on_heartbeat(big, Heartbeat(NodeID=big, Seq=1, Interval=1, Known=5))
    assert me._pull_from == big
    assert me._pull_wanted.is_set()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(me._table_loop)
        with trio.fail_after(20):
            while me.nodes.count() < 5:
                await me.nodes.changed.wait()
        nursery.cancel_scope.cancel()
    assert asked == [(big, NODES)]
    assert all(me.nodes.is_connected(opened(info).NodeID) for info in table)


async def test_node_table_entries_not_signed_by_their_node_are_dropped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A peer handing out a node table cannot speak for the nodes in it:
    an entry it forged (or altered) is dropped and counted."""
    victim, liar = peer("victim"), peer("liar")
    genuine = signed_node(victim)
    forged = seal(make_node(victim.id, compute=False, Seq=2**60), liar.sign)
    assert opened(genuine).NodeType == "Compute"

    async def call(
        peer_id: str, method: object, request: NodesRequest, **_: Any
    ) -> NodesResponse:
        answer = NodesResponse(Nodes=[genuine, forged])  # as it crosses the wire:
        return NodesResponse.model_validate_json(answer.model_dump_json())

    me = announcer("self", {}, rpc=SimpleNamespace(register=lambda *_: None, call=call))
    await me._pull_tables([liar.id])
    info = me.nodes.get(victim.id)
    assert info is not None
    assert info.NodeType == "Compute"
    assert me.refused == 1


async def test_heartbeat_from_a_node_that_knows_no_more_pulls_nothing(
    mock_clock: trio.testing.MockClock,
) -> None:
    me = announcer("self", {})
    me.current_info()
    me.nodes.observe_info(make_node("peer"))
    for known in (0, 1, 2):
        me._on_heartbeat("peer", Heartbeat(NodeID="peer", Seq=known, Known=known))
    # its own heartbeat, come back through gossip, is no news either
    own = peer("self").id
    me._on_heartbeat(own, Heartbeat(NodeID=own, Seq=1, Known=99))
    assert me._pull_from is None
    assert not me._pull_wanted.is_set()


async def test_nodes_request_introduces_the_asker_and_gets_the_live_nodes(
    mock_clock: trio.testing.MockClock,
) -> None:
    learned: list[PeerRecord] = []
    me = announcer(
        "self", {}, discovery=SimpleNamespace(learn=learned.append, joined=None)
    )
    me.current_info()
    me.nodes.observe_info(make_node("gone"))
    mock_clock.jump(TIMEOUT + 1)
    me.nodes.expire(trio.current_time())  # lost: not passed on
    a, other = peer("a"), peer("other")
    me.current_signed()
    me.nodes.observe_info(opened(signed_node(a)), signed_node(a))
    address = "/ip4/10.0.0.9/tcp/4001"
    asker = signed_node(other, Addresses=[address])
    answer = await me._on_nodes(other.id, NodesRequest(Self=asker))
    assert me.nodes.is_connected(other.id)
    assert learned == [PeerRecord(ID=other.id, Addrs=[address])]
    expected = sorted([a.id, other.id, peer("self").id])
    assert sorted(opened(info).NodeID for info in answer.Nodes) == expected


async def test_nodes_request_cannot_introduce_another_node(
    mock_clock: trio.testing.MockClock,
) -> None:
    """The node-table RPC's `Self` must be the caller's own info: a stranger
    cannot rewrite what others believe of a node (e.g. make it a requester)."""
    victim, stranger = peer("victim"), peer("stranger")
    me = announcer("self", {})
    me.nodes.observe_info(opened(signed_node(victim)), signed_node(victim))
    replayed = signed_node(victim, compute=False, Seq=2**60)
    request = NodesRequest.model_validate_json(
        NodesRequest(Self=replayed).model_dump_json()
    )
    with pytest.raises(HandlerError, match="claims to be"):
        await me._on_nodes(stranger.id, request)
    info = me.nodes.get(victim.id)
    assert info is not None
    assert info.NodeType == "Compute"
    assert me.refused == 1
