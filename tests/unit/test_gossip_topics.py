"""Gossip topics decode only what they should, and never crash on garbage."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.peer.id import ID
from pydantic import ValidationError

from bacalao import protocol
from bacalao.models.wire import Heartbeat
from bacalao.network.signed_info import opened, seal
from bacalao.p2p.gossip import Gossip, Topic
from tests.effort import examples

from .strategies import json_values
from .support import make_job, make_node, signed_node
from .support import peer as identity

TOPICS = [protocol.NODE_INFO, protocol.HEALTH, protocol.OPEN_CALLS, protocol.JOB_EVENTS]
SENDER = "12D3KooWSender"


def _shaped(topic: Topic[Any]) -> st.SearchStrategy[Any]:
    """Dicts using the topic model's own keys, with random values."""
    fields = sorted(topic.model.model_fields)
    return st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields))


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
@settings(max_examples=examples(100), deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_are_refused_with_a_validation_error(
    topic: Topic[Any], data: bytes
) -> None:
    with contextlib.suppress(ValidationError, ValueError):
        topic.decode(SENDER, data)


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
@settings(max_examples=examples(100), deadline=None)
@given(st.data())
def test_random_json_is_decoded_or_refused(
    topic: Topic[Any], data: st.DataObject
) -> None:
    value = data.draw(json_values | _shaped(topic))
    with contextlib.suppress(ValidationError, ValueError):
        topic.decode(SENDER, json.dumps(value).encode())


def test_node_info_from_its_own_node_is_accepted() -> None:
    sender = identity("sender")
    signed = signed_node(sender)
    decoded = protocol.NODE_INFO.decode(sender.id, signed.model_dump_json().encode())
    assert opened(decoded) == opened(signed)


def test_node_info_claiming_another_node_is_refused() -> None:
    victim = identity("victim")
    genuine = signed_node(victim).model_dump_json().encode()
    with pytest.raises(ValueError, match=f"claims to be {victim.id}"):
        protocol.NODE_INFO.decode(identity("sender").id, genuine)


def test_node_info_signed_by_another_key_is_refused() -> None:
    """A peer cannot seal info in another node's name with its own key."""
    victim, forger = identity("victim"), identity("forger")
    forged = seal(make_node(victim.id, labels={"owned": "yes"}), forger.sign)
    with pytest.raises(ValueError, match="is not signed by it"):
        protocol.NODE_INFO.decode(victim.id, forged.model_dump_json().encode())


def test_node_info_altered_after_signing_is_refused() -> None:
    sender = identity("sender")
    signed = signed_node(sender)
    tampered = signed.Payload.replace('"Compute"', '"Requester"')
    altered = signed.model_copy(update={"Payload": tampered})
    altered._info = None
    with pytest.raises(ValueError, match="is not signed by it"):
        protocol.NODE_INFO.decode(sender.id, altered.model_dump_json().encode())


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        (protocol.HEALTH, Heartbeat(NodeID="someone-else")),
        (
            protocol.OPEN_CALLS,
            protocol.OPEN_CALLS.model(RequesterID="someone-else", Job=make_job()),
        ),
        (protocol.JOB_EVENTS, protocol.JOB_EVENTS.model(RequesterID="someone-else")),
    ],
    ids=["health", "bids", "job-events"],
)
def test_every_topic_refuses_messages_speaking_for_another_node(
    topic: Topic[Any], message: Any
) -> None:
    with pytest.raises(ValueError, match="claims to be someone-else"):
        topic.decode(SENDER, message.model_dump_json().encode())
    assert topic.decode("someone-else", message.model_dump_json().encode()) == message


def test_topic_without_check_accepts_any_sender() -> None:
    topic = Topic("test/1", Heartbeat)
    assert topic.decode("anyone", b'{"NodeID": "x"}') == Heartbeat(NodeID="x")


def test_topic_names_are_versioned() -> None:
    assert all(t.name.startswith("bacalao/") and t.name[-1].isdigit() for t in TOPICS)


class FakeSubscription:
    def __init__(self, receive: trio.MemoryReceiveChannel[SimpleNamespace]) -> None:
        self._receive = receive

    async def get(self) -> SimpleNamespace:
        return await self._receive.receive()


class FakePubsub:
    """The slice of py-libp2p's Pubsub that `Gossip` uses."""

    def __init__(self) -> None:
        self.validators: dict[str, Callable[[Any, Any], bool]] = {}
        self.sent: list[tuple[str, bytes]] = []
        self.deliver, self._receive = trio.open_memory_channel[SimpleNamespace](10)

    def set_topic_validator(
        self, topic: str, validator: Callable[[Any, Any], bool], is_async: bool
    ) -> None:
        assert not is_async
        self.validators[topic] = validator

    async def subscribe(self, topic: str) -> FakeSubscription:
        return FakeSubscription(self._receive)

    async def publish(self, topic: str, data: bytes) -> None:
        self.sent.append((topic, data))


@pytest.fixture(scope="module")
def peer() -> str:
    return str(ID.from_pubkey(create_new_key_pair(b"\x01" * 32).public_key).to_base58())


def message(sender: str, data: bytes, seqno: int = 0) -> SimpleNamespace:
    return SimpleNamespace(
        from_id=ID.from_base58(sender).to_bytes(),
        seqno=seqno.to_bytes(8, "big"),
        data=data,
    )


ME = str(ID.from_pubkey(create_new_key_pair(b"\x02" * 32).public_key).to_base58())


def beat(node_id: str, seq: int = 0) -> bytes:
    return Heartbeat(NodeID=node_id, Seq=seq).model_dump_json().encode()


async def test_validator_refuses_and_counts_bad_messages(peer: str) -> None:
    pubsub = FakePubsub()
    gossip = Gossip(pubsub, own_id=ME)
    async with trio.open_nursery() as nursery:
        await nursery.start(gossip.serve, protocol.HEALTH, lambda _s, _m: None)
        validate = pubsub.validators[protocol.HEALTH.name]
        assert validate(None, message(peer, beat(peer)))
        assert not validate(None, message(peer, b"garbage"))
        assert not validate(None, message(peer, beat("someone-else")))
        assert validate(None, message(ME, b"our own: trusted, not decoded"))
        nursery.cancel_scope.cancel()
    assert gossip.stats.dropped_invalid == 2


async def test_handler_failure_does_not_stop_the_subscription(peer: str) -> None:
    pubsub = FakePubsub()
    gossip = Gossip(pubsub, own_id=ME)
    got: list[int] = []
    second = trio.Event()

    def handler(_sender: str, msg: Heartbeat) -> None:
        if msg.Seq == 1:
            raise RuntimeError("handler bug")
        got.append(msg.Seq)
        second.set()

    async with trio.open_nursery() as nursery:
        await nursery.start(gossip.serve, protocol.HEALTH, handler)
        await pubsub.deliver.send(message(peer, beat(peer, 1), 1))
        await pubsub.deliver.send(message(peer, b"not json", 2))  # skipped quietly
        await pubsub.deliver.send(message(ME, beat(ME, 9), 3))  # our own: not handled
        await pubsub.deliver.send(message(peer, beat(peer, 2), 4))
        with trio.fail_after(5):
            await second.wait()
        nursery.cancel_scope.cancel()
    assert got == [2]
    assert gossip.stats.delivered == 2


async def test_publish_sends_the_model_as_json() -> None:
    pubsub = FakePubsub()
    gossip = Gossip(pubsub, own_id=ME)
    await gossip.publish(protocol.HEALTH, Heartbeat(NodeID="n", Seq=3))
    assert pubsub.sent == [(protocol.HEALTH.name, beat("n", 3))]
    assert gossip.stats.published == 1
