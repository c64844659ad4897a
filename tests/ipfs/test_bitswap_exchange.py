"""Bitswap between real bacalao swarms (and hand-driven peers) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
import trio
from libp2p.custom_types import TProtocol

from bacalao.ipfs.bitswap import (
    PROTOCOL_100,
    PROTOCOL_110,
    PROTOCOLS,
    Bitswap,
    BitswapError,
    BlockNotFound,
)
from bacalao.ipfs.bitswap.wire import (
    Entry,
    Message,
    Payload,
    Presence,
    PresenceType,
    WantType,
    encode_frame,
)
from bacalao.ipfs.cid import CID

from ..p2p.conftest import WAIT, wait_until
from .bitswap_nodes import (
    MakeNode,
    Node,
    RawPeer,
    connect,
    make_node,
    make_raw_peer,
    raw_blocks,
    start_swarm,
)

__all__ = ["make_node", "make_raw_peer", "start_swarm"]  # fixtures used here

MakeRawPeer = Callable[[], Awaitable[RawPeer]]


async def fetch_all(node: Node, cids: Sequence[CID], **kwargs: Any) -> dict[CID, bytes]:
    got: dict[CID, bytes] = {}
    with trio.fail_after(WAIT):
        async for cid, data in node.bitswap.get_blocks(cids, **kwargs):
            got[cid] = data
    return got


async def test_a_node_fetches_blocks_another_holds(make_node: MakeNode) -> None:
    server, client = await make_node(), await make_node()
    items = raw_blocks(20, size=5000)
    await server.hold(items)
    await connect(client, server)

    got = await fetch_all(client, [cid for cid, _ in items])

    assert got == dict(items)
    for cid, data in items:  # kept locally, so this node can serve them on
        assert await client.blocks.get(cid) == data
    assert server.bitswap.statistics().blocks_sent == 20


async def test_blocks_come_from_several_providers_at_once(make_node: MakeNode) -> None:
    a, b, client = await make_node(), await make_node(), await make_node()
    items = raw_blocks(64, size=20_000)
    await a.hold(items)
    await b.hold(items)

    got = await fetch_all(
        client,
        [cid for cid, _ in items],
        providers=[a.swarm.p2p_addrs[0], b.swarm.p2p_addrs[0]],  # dialled for us
    )

    assert got == dict(items)
    sent = [n.bitswap.statistics().blocks_sent for n in (a, b)]
    assert min(sent) > 0, sent
    # cancels reach the provider that did not send a block
    await wait_until(
        lambda: (
            a.bitswap.server.ledger.wantlist_size(client.peer_id) == 0
            and b.bitswap.server.ledger.wantlist_size(client.peer_id) == 0
        )
    )


async def test_a_block_that_arrives_later_is_sent_to_the_peer_waiting(
    make_node: MakeNode,
) -> None:
    server, client = await make_node(), await make_node()
    await connect(client, server)
    [(cid, data)] = raw_blocks(1)
    got: list[bytes] = []

    async def fetch() -> None:
        got.append(await client.bitswap.get_block(cid, no_progress_timeout=WAIT))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(fetch)
        await wait_until(
            lambda: server.bitswap.server.ledger.wants(client.peer_id, cid) is not None
        )
        await server.hold([(cid, data)])
    assert got == [data]


async def test_a_cid_nobody_has_fails_naming_it(make_node: MakeNode) -> None:
    server, client = await make_node(), await make_node()
    await connect(client, server)
    [(cid, _data)] = raw_blocks(1)

    with trio.fail_after(WAIT), pytest.raises(BlockNotFound) as caught:
        await client.bitswap.get_block(cid, no_progress_timeout=1.0)
    assert str(cid) in str(caught.value)
    assert caught.value.missing == (cid,)


async def test_with_no_peer_at_all_the_fetch_still_ends(make_node: MakeNode) -> None:
    client = await make_node()
    [(cid, _data)] = raw_blocks(1)
    with trio.fail_after(WAIT), pytest.raises(BlockNotFound):
        await client.bitswap.get_block(cid, no_progress_timeout=0.5)


async def liar(peer: RawPeer, blocks: dict[bytes, bytes]) -> None:
    """A provider that claims every block and sends wrong bytes for each."""
    seen = 0
    while True:
        for sender, msg in await peer.wait_message(seen):
            seen += 1
            wanted = [e for e in msg.entries if not e.cancel]
            haves = tuple(
                Presence(e.cid, PresenceType.HAVE)
                for e in wanted
                if e.want_type == WantType.HAVE
            )
            forged = tuple(
                Payload(e.cid.prefix(), blocks[e.cid.multihash][::-1])
                for e in wanted
                if e.want_type == WantType.BLOCK
            )
            if haves or forged:
                reply = Message(payload=forged, presences=haves)
                await peer.send(sender, encode_frame(reply))


async def test_a_provider_sending_wrong_bytes_is_dropped_and_the_fetch_completes(
    make_node: MakeNode, make_raw_peer: MakeRawPeer
) -> None:
    honest, client = await make_node(), await make_node()
    hostile = await make_raw_peer()
    items = raw_blocks(16, size=3000)
    await honest.hold(items)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(liar, hostile, {c.multihash: d for c, d in items})
        providers = [honest.swarm.p2p_addrs[0], hostile.running.swarm.p2p_addrs[0]]
        got = await fetch_all(client, [c for c, _ in items], providers=providers)
        nursery.cancel_scope.cancel()

    assert got == dict(items)  # nothing forged got through
    assert client.bitswap.statistics().bad_blocks >= 1
    assert honest.bitswap.statistics().blocks_sent == len(items)
    asked_liar = [
        e.cid
        for _, m in hostile.received
        for e in m.entries
        if not e.cancel and e.want_type == WantType.BLOCK
    ]
    assert asked_liar  # it was asked, lied, and ...
    assert len(asked_liar) == len(set(asked_liar))  # ... was never asked again


async def test_a_lying_provider_is_not_asked_again_in_the_session(
    make_node: MakeNode, make_raw_peer: MakeRawPeer
) -> None:
    late, client, hostile = await make_node(), await make_node(), await make_raw_peer()
    items = raw_blocks(4)
    got: dict[CID, bytes] = {}

    async def fetch() -> None:
        providers = [late.swarm.p2p_addrs[0], hostile.running.swarm.p2p_addrs[0]]
        got.update(await fetch_all(client, [c for c, _ in items], providers=providers))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(liar, hostile, {c.multihash: d for c, d in items})
        nursery.start_soon(fetch)
        await wait_until(lambda: client.bitswap.statistics().bad_blocks > 0)
        heard = len(hostile.received)
        await late.hold(items)  # now an honest provider has them
        await wait_until(lambda: len(got) == len(items))
        nursery.cancel_scope.cancel()

    assert got == dict(items)
    # had it not been dropped, it would at least get cancels for every block
    assert len(hostile.received) == heard


async def test_garbage_frames_drop_the_stream_and_the_node_keeps_serving(
    make_node: MakeNode, make_raw_peer: MakeRawPeer
) -> None:
    server, client, vandal = await make_node(), await make_node(), await make_raw_peer()
    items = raw_blocks(4)
    await server.hold(items)

    await vandal.dial(server)
    await vandal.send(server.peer_id, b"\x05\x0b\x0b\x0b\x0b\x0b")  # wire type 3
    await vandal.send(server.peer_id, b"\xff" * 12)  # a length varint too long
    await wait_until(lambda: server.bitswap.statistics().malformed_streams == 2)

    await connect(client, server)
    assert await fetch_all(client, [c for c, _ in items]) == dict(items)


async def test_a_peer_sending_each_message_on_a_new_stream_is_served(
    make_node: MakeNode, make_raw_peer: MakeRawPeer
) -> None:
    server, peer = await make_node(), await make_raw_peer()
    [(cid, data)] = raw_blocks(1)
    await server.hold([(cid, data)])

    await peer.dial(server)
    want_have = Entry(cid, want_type=WantType.HAVE, send_dont_have=True)
    await peer.send(server.peer_id, encode_frame(Message(entries=(want_have,))))
    [(_, answer)] = await peer.wait_message()
    assert answer.presences == (Presence(cid, PresenceType.HAVE),)

    await peer.send(server.peer_id, encode_frame(Message(entries=(Entry(cid),))))
    [(_, answer)] = await peer.wait_message(1)
    assert answer.payload == (Payload(cid.prefix(), data),)


@pytest.mark.parametrize(
    ("server_protocols", "client_protocols"),
    [
        ((PROTOCOL_100,), None),
        ((PROTOCOL_110,), None),
        (None, (PROTOCOL_100,)),
        (None, (PROTOCOL_110,)),
    ],
)
async def test_peers_on_bitswap_1_0_and_1_1_exchange_blocks(
    make_node: MakeNode,
    server_protocols: tuple[str, ...] | None,
    client_protocols: tuple[str, ...] | None,
) -> None:
    def options(protocols: tuple[str, ...] | None) -> dict[str, Any]:
        return {} if protocols is None else {"protocols": protocols}

    server = await make_node(**options(server_protocols))
    client = await make_node(**options(client_protocols))
    items = raw_blocks(6, size=4000)
    await server.hold(items)
    await connect(client, server)

    got = await fetch_all(client, [c for c, _ in items], no_progress_timeout=5)
    assert got == dict(items)


async def test_an_ipfs_peer_given_by_address_is_kept_and_asked(
    make_node: MakeNode,
) -> None:
    node, ipfs_peer = await make_node(max_fanout=0), await make_node()
    items = raw_blocks(3)
    await ipfs_peer.hold(items)
    assert node.bitswap.add_peer(ipfs_peer.swarm.p2p_addrs[0]) == ipfs_peer.peer_id
    await wait_until(lambda: ipfs_peer.peer_id in node.swarm.connected_peers())
    # with no fan-out to connected peers, only the kept peer can serve
    assert await fetch_all(node, [c for c, _ in items]) == dict(items)

    await node.swarm.host.disconnect(ipfs_peer.running.swarm.host.get_id())
    await wait_until(lambda: ipfs_peer.peer_id not in node.swarm.connected_peers())
    await wait_until(lambda: ipfs_peer.peer_id in node.swarm.connected_peers())
    assert node.bitswap.statistics().external_peers == (ipfs_peer.peer_id,)


async def test_an_unreachable_provider_is_skipped(make_node: MakeNode) -> None:
    good, gone, client = await make_node(), await make_node(), await make_node()
    items = raw_blocks(2)
    await good.hold(items)
    address = gone.swarm.p2p_addrs[0]
    await gone.running.stop()

    got = await fetch_all(
        client, [c for c, _ in items], providers=[address, good.swarm.p2p_addrs[0]]
    )
    assert got == dict(items)


def test_the_package_exports_what_it_documents() -> None:
    import bacalao.ipfs.bitswap as package

    for name in package.__all__:
        assert getattr(package, name) is not None
    assert issubclass(package.BlockNotFound, package.BitswapError)


async def test_a_peer_that_stops_reading_holds_a_bounded_queue_and_blocks_no_one(
    make_node: MakeNode, make_raw_peer: MakeRawPeer
) -> None:
    limit = 256 * 1024
    server = await make_node(max_bytes_in_flight=limit)
    client, sleeper = await make_node(), await make_raw_peer()
    items = raw_blocks(60, size=100_000)  # 6 MB wanted by a peer that never reads
    await server.hold(items)

    async def never_read(stream: Any) -> None:
        await trio.sleep_forever()

    for protocol in PROTOCOLS:
        sleeper.running.swarm.host.set_stream_handler(TProtocol(protocol), never_read)
    await sleeper.dial(server)
    wants = Message(entries=tuple(Entry(c) for c, _ in items))
    await sleeper.send(server.peer_id, encode_frame(wants))

    def stuck_link() -> Any:
        link = server.bitswap._links.existing(sleeper.peer_id)
        return link if link is not None and link.queued_bytes >= limit else None

    await wait_until(lambda: stuck_link() is not None)
    await connect(client, server)
    assert await fetch_all(client, [c for c, _ in items[:5]]) == dict(items[:5])
    assert stuck_link().queued_bytes < limit + 100_000
    assert server.bitswap.server.ledger.wantlist_size(sleeper.peer_id) > 30


async def test_fetching_before_bitswap_runs_says_so(make_node: MakeNode) -> None:
    node = await make_node()
    idle = Bitswap(node.swarm, node.blocks)
    [(cid, _data)] = raw_blocks(1)
    with pytest.raises(BitswapError, match="not running"):
        await idle.get_block(cid)
