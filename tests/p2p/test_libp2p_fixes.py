"""The py-libp2p defects we fix (bacalao.p2p.libp2p_fixes), on real hosts."""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Any

import libp2p.pubsub.pubsub
import pytest
import trio
from libp2p.abc import INetStream
from libp2p.custom_types import TProtocol
from libp2p.network.stream.net_stream import NetStream
from libp2p.peer.envelope import consume_envelope
from libp2p.peer.id import ID
from libp2p.peer.peer_record import PEER_RECORD_ENVELOPE_DOMAIN
from libp2p.peer.peerstore import env_to_send_in_RPC
from libp2p.pubsub.pb.rpc_pb2 import RPC
from libp2p.stream_muxer.yamux.yamux import (
    DEFAULT_WINDOW_SIZE,
    HEADER_SIZE,
    TYPE_WINDOW_UPDATE,
    YAMUX_HEADER_FORMAT,
    YamuxStream,
)
from libp2p.utils import encode_varint_prefixed, read_varint_prefixed_bytes

from bacalao.p2p.host import Swarm, SwarmConfig

from .conftest import WAIT, RunningSwarm, StartSwarm, wait_until

BULK = TProtocol("/bacalao-test/bulk/1.0.0")
MESSAGE_BYTES = 600_000  # over yamux's 256 KiB window: sent in pieces


async def connected_pair(start_swarm: StartSwarm) -> tuple[RunningSwarm, RunningSwarm]:
    a = await start_swarm()
    b = await start_swarm(bootstrap=a.swarm.p2p_addrs)
    await wait_until(lambda: a.swarm.peer_id in b.swarm.connected_peers())
    return a, b


async def test_concurrent_writes_to_one_stream_arrive_whole(
    start_swarm: StartSwarm,
) -> None:
    a, b = await connected_pair(start_swarm)
    received: list[bytes] = []
    writers, per_writer = 3, 4

    async def handler(stream: INetStream) -> None:
        for _ in range(writers * per_writer):
            received.append(await read_varint_prefixed_bytes(stream))
            await trio.sleep(0.01)  # a slow reader: the sender's window runs out

    a.swarm.host.set_stream_handler(BULK, handler)
    stream = await b.swarm.host.new_stream(ID.from_base58(a.swarm.peer_id), [BULK])

    async def writer(fill: int) -> None:
        for _ in range(per_writer):
            await stream.write(encode_varint_prefixed(bytes([fill]) * MESSAGE_BYTES))

    with trio.fail_after(WAIT):
        async with trio.open_nursery() as nursery:
            for fill in range(writers):
                nursery.start_soon(writer, fill)
        await wait_until(lambda: len(received) == writers * per_writer)
    for message in received:
        assert len(message) == MESSAGE_BYTES
        assert message == bytes([message[0]]) * MESSAGE_BYTES
    assert sorted(m[0] for m in received) == sorted(list(range(writers)) * per_writer)


async def test_malformed_gossip_frame_drops_the_stream_not_the_node(
    start_swarm: StartSwarm,
) -> None:
    a, b = await connected_pair(start_swarm)
    stream = await b.swarm.host.new_stream(
        ID.from_base58(a.swarm.peer_id), [TProtocol("/meshsub/1.1.0")]
    )
    await stream.write(encode_varint_prefixed(b"\xff\xff\xff\xff not a protobuf"))
    with trio.fail_after(WAIT):
        while True:  # the node hangs up on that stream...
            try:
                if not await stream.read(1024):
                    break
            except Exception:
                break
    # ...and is still alive and talking on gossip to a newcomer.
    c = await start_swarm(bootstrap=a.swarm.p2p_addrs)
    await wait_until(lambda: c.swarm.peer_id in a.swarm.connected_peers())
    assert not a.stopped.is_set()


async def test_a_peers_signed_record_is_checked_once_not_per_rpc(
    start_swarm: StartSwarm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    a = await start_swarm()
    # A peer `a` has never heard from, so its record cannot be cached yet.
    stranger = Swarm(tmp_path / "stranger", SwarmConfig(listen_host="127.0.0.1"))
    peerstore = a.swarm.host.get_peerstore()
    stored: list[object] = []
    original = peerstore.consume_peer_record

    def consume_peer_record(envelope: object, ttl: int) -> bool:
        stored.append(envelope)
        return bool(original(envelope, ttl))  # type: ignore[arg-type]

    monkeypatch.setattr(peerstore, "consume_peer_record", consume_peer_record)
    rpc = RPC()
    rpc.senderRecord = env_to_send_in_RPC(stranger.host)[0]
    stranger_id = ID.from_base58(stranger.peer_id)
    check = libp2p.pubsub.pubsub.maybe_consume_signed_record  # type: ignore[attr-defined]
    assert all([check(rpc, a.swarm.host, stranger_id) for _ in range(5)])
    assert len(stored) == 1
    # A record that names another peer is still refused.
    assert not check(rpc, a.swarm.host, ID.from_base58(a.swarm.peer_id))


def spy_window_updates(
    stream: INetStream, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """The increments of the WINDOW_UPDATE frames `stream`'s side of the
    connection sends for it from now on, as they go on the wire."""
    assert isinstance(stream, NetStream)
    muxed = stream.muxed_stream
    assert isinstance(muxed, YamuxStream)
    conn = muxed.conn
    write_frame = conn._write_frame
    increments: list[int] = []

    async def spying_write_frame(data: bytes) -> None:
        _, kind, flags, stream_id, length = struct.unpack(
            YAMUX_HEADER_FORMAT, data[:HEADER_SIZE]
        )
        # flags 0: a plain credit update, not the SYN/ACK/FIN/RST of the stream
        if kind == TYPE_WINDOW_UPDATE and flags == 0 and stream_id == muxed.stream_id:
            increments.append(length)
        await write_frame(data)

    monkeypatch.setattr(conn, "_write_frame", spying_write_frame)
    return increments


async def test_small_messages_cost_the_receiver_few_window_updates(
    start_swarm: StartSwarm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream of small messages read as they come: credit goes back to the
    sender once half the window is used, not one WINDOW_UPDATE per read."""
    a, b = await connected_pair(start_swarm)
    count, size = 2_000, 100
    sent = [i.to_bytes(4, "big") * (size // 4) for i in range(count)]
    received: list[bytes] = []
    spied: list[list[int]] = []

    async def handler(stream: INetStream) -> None:
        spied.append(spy_window_updates(stream, monkeypatch))  # before any read
        for _ in range(count):
            received.append(await read_varint_prefixed_bytes(stream))

    a.swarm.host.set_stream_handler(BULK, handler)
    stream = await b.swarm.host.new_stream(ID.from_base58(a.swarm.peer_id), [BULK])
    with trio.fail_after(WAIT):
        for message in sent:
            await stream.write(encode_varint_prefixed(message))
        await wait_until(lambda: len(received) == count)
    assert received == sent
    [updates] = spied
    assert len(updates) <= 5, f"{len(updates)} window updates for {count} messages"


async def test_transfer_larger_than_the_window_completes(
    start_swarm: StartSwarm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batched credit still reaches the sender: several MB through a 256 KiB
    window arrive whole instead of stalling once the window is spent."""
    a, b = await connected_pair(start_swarm)
    total = 4 * 1024 * 1024
    payload = bytes(i * 7 % 251 for i in range(total))
    received = bytearray()
    spied: list[list[int]] = []

    async def handler(stream: INetStream) -> None:
        spied.append(spy_window_updates(stream, monkeypatch))
        while len(received) < total:
            received.extend(await stream.read(64 * 1024))

    a.swarm.host.set_stream_handler(BULK, handler)
    stream = await b.swarm.host.new_stream(ID.from_base58(a.swarm.peer_id), [BULK])
    with trio.fail_after(WAIT):
        await stream.write(payload)
        await wait_until(lambda: len(received) >= total)
    assert received == payload
    [updates] = spied
    assert sum(updates) >= total - DEFAULT_WINDOW_SIZE  # credit for what was read
    # ...in window-sized batches, not one per read
    assert len(updates) <= 2 * total // DEFAULT_WINDOW_SIZE + 2


async def test_local_signed_record_is_reused_within_its_ttl(
    start_swarm: StartSwarm,
) -> None:
    a = await start_swarm()
    b = await start_swarm()
    envelope = libp2p.pubsub.pubsub.env_to_send_in_RPC  # type: ignore[attr-defined]
    first, _ = envelope(a.swarm.host)
    again, fresh = envelope(a.swarm.host)
    assert again is first  # the cached bytes, not a re-signed or re-encoded copy
    assert not fresh
    other, _ = envelope(b.swarm.host)
    assert other != first
    for data, owner in ((first, a), (other, b)):
        _, record = consume_envelope(data, PEER_RECORD_ENVELOPE_DOMAIN)
        assert record.peer_id == ID.from_base58(owner.swarm.peer_id)


async def test_a_writer_out_of_window_waits_for_the_update_not_a_timer(
    start_swarm: StartSwarm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """py-libp2p's writer polls every 10 ms for window (a bulk stream then
    moves one window per 10 ms); ours is woken by the window update."""
    a, b = await connected_pair(start_swarm)
    polls: list[float] = []
    real_sleep = trio.sleep

    async def sleep(seconds: float) -> None:
        if sys._getframe(1).f_code.co_name == "write":
            polls.append(seconds)
        await real_sleep(seconds)

    size = 8 * DEFAULT_WINDOW_SIZE
    got = trio.Event()

    async def handler(stream: INetStream) -> None:
        await real_sleep(0.3)  # late: the writer runs out of window first
        received = 0
        while received < size:
            received += len(await stream.read(65536))
        got.set()

    a.swarm.host.set_stream_handler(BULK, handler)
    stream = await b.swarm.host.new_stream(ID.from_base58(a.swarm.peer_id), [BULK])
    monkeypatch.setattr(trio, "sleep", sleep)
    with trio.fail_after(WAIT):
        await stream.write(b"x" * size)
        await got.wait()
    assert polls == []


async def test_a_topic_subscribed_while_a_peer_is_being_added_reaches_it(
    nursery: trio.Nursery, start_swarm: StartSwarm
) -> None:
    """py-libp2p builds a new peer's hello packet, then registers the peer
    after writing it; a subscription made in between went to nobody."""
    a = await start_swarm()
    topic = "bacalao-test/late-topic"
    pubsub = a.swarm.pubsub
    hello = pubsub.get_hello_packet
    started = []

    def hello_then_subscribe() -> Any:
        packet = hello()
        if not started:  # subscribe while the peer is not registered yet
            started.append(True)
            nursery.start_soon(pubsub.subscribe, topic)
        return packet

    pubsub.get_hello_packet = hello_then_subscribe  # type: ignore[method-assign]
    b = await start_swarm(bootstrap=a.swarm.p2p_addrs)
    a_id = ID.from_base58(a.swarm.peer_id)
    await wait_until(lambda: bool(started) and topic in pubsub.topic_ids)
    await wait_until(
        lambda: a_id in b.swarm.pubsub.peer_topics.get(topic, set()), timeout=5
    )
