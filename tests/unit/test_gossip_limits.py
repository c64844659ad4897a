"""Invalid gossip is counted per topic and per author and logged sparingly;
gossip written by peers off the allow-list is dropped."""

from __future__ import annotations

import logging

import pytest
import trio
from libp2p.crypto.ed25519 import create_new_key_pair

from bacalao import protocol
from bacalao.p2p.gossip import Gossip
from bacalao.p2p.identity import peer_id_of

from .test_gossip_topics import ME, FakePubsub, beat, message

HOSTILE = peer_id_of(create_new_key_pair(b"\x07" * 32))
FRIEND = peer_id_of(create_new_key_pair(b"\x08" * 32))


async def test_a_flood_of_invalid_messages_is_counted_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bacalao.p2p.gossip")
    pubsub = FakePubsub()
    gossip = Gossip(pubsub, own_id=ME)
    async with trio.open_nursery() as nursery:
        for topic in (protocol.HEALTH, protocol.NODE_INFO):
            await nursery.start(gossip.serve, topic, lambda _s, _m: None)
        health = pubsub.validators[protocol.HEALTH.name]
        node_info = pubsub.validators[protocol.NODE_INFO.name]
        for seq in range(1000):
            assert not health(None, message(HOSTILE, b"garbage", seq))
        assert not node_info(None, message(HOSTILE, b"{}", 1))
        assert not health(None, message(FRIEND, beat(HOSTILE), 2))  # not its own
        nursery.cancel_scope.cancel()

    stats = gossip.statistics()
    assert stats.dropped_invalid == 1002
    assert stats.invalid_by_topic == {
        protocol.HEALTH.name: 1001,
        protocol.NODE_INFO.name: 1,
    }
    assert stats.invalid_by_peer == {HOSTILE: 1001, FRIEND: 1}
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2  # the first from each peer; the rest held back
    assert warnings[0].startswith(f"dropped invalid {protocol.HEALTH.name} message")
    assert HOSTILE in warnings[0]


async def test_messages_written_by_unlisted_peers_are_dropped() -> None:
    pubsub = FakePubsub()
    gossip = Gossip(pubsub, own_id=ME, admits=lambda peer: peer == FRIEND)
    async with trio.open_nursery() as nursery:
        await nursery.start(gossip.serve, protocol.HEALTH, lambda _s, _m: None)
        validate = pubsub.validators[protocol.HEALTH.name]
        assert not validate(None, message(HOSTILE, beat(HOSTILE)))
        assert validate(None, message(FRIEND, beat(FRIEND)))
        nursery.cancel_scope.cancel()
    stats = gossip.statistics()
    assert (stats.dropped_unlisted, stats.dropped_invalid) == (1, 0)
