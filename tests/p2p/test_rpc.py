"""Direct-stream RPC between real libp2p hosts on 127.0.0.1."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import trio
from libp2p.abc import INetStream
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from pydantic import BaseModel, Field

from bacalao.p2p.channel import (
    MUX_PROTOCOL,
    decode_answer,
    encode_answer,
    encode_request,
)
from bacalao.p2p.codec import HEADER, encode_frame, read_frame
from bacalao.p2p.exceptions import (
    CodecError,
    P2PError,
    PeerUnreachable,
    RemoteError,
    RpcTimeout,
)
from bacalao.p2p.host import Swarm
from bacalao.p2p.rpc import HandlerError, Method
from bacalao.ports import free_port

from .conftest import WAIT, RunningSwarm, StartSwarm, wait_until


class Sum(BaseModel):
    A: int
    B: int = Field(0, ge=0)


class Total(BaseModel):
    Total: int
    Caller: str


ADD = Method("/bacalao-test/add/1.0.0", Sum, Total)


async def add(peer: str, request: Sum) -> Total:
    if request.A == 13:
        raise HandlerError("unlucky", "13 is not accepted here")
    if request.A == 666:
        raise RuntimeError("handler bug")
    if request.A == 7:
        await trio.sleep_forever()
    return Total(Total=request.A + request.B, Caller=peer)


@pytest.fixture
async def pair(start_swarm: StartSwarm) -> tuple[RunningSwarm, RunningSwarm]:
    """A server serving ADD, and a client that bootstrapped from it."""
    server = await start_swarm()
    server.swarm.rpc.register(ADD, add)
    client = await start_swarm(bootstrap=server.swarm.p2p_addrs)
    await wait_until(lambda: server.swarm.peer_id in client.swarm.connected_peers())
    return server, client


async def call(client: Swarm, server: Swarm, a: int, b: int = 0) -> Total:
    with trio.fail_after(WAIT):
        return await client.rpc.call(server.peer_id, ADD, Sum(A=a, B=b))


async def test_call_returns_the_handlers_answer(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    server, client = pair[0].swarm, pair[1].swarm
    answer = await call(client, server, 2, 3)
    assert answer == Total(Total=5, Caller=client.peer_id)  # handler sees the caller


async def test_several_calls_at_once(pair: tuple[RunningSwarm, RunningSwarm]) -> None:
    server, client = pair[0].swarm, pair[1].swarm
    results: dict[int, int] = {}

    async def one(i: int) -> None:
        results[i] = (await call(client, server, i, 1)).Total

    numbers = range(20, 30)  # clear of the handler's special values
    async with trio.open_nursery() as nursery:
        for i in numbers:
            nursery.start_soon(one, i)
    assert results == {i: i + 1 for i in numbers}


async def test_handler_error_reaches_the_caller_with_its_code(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    server, client = pair[0].swarm, pair[1].swarm
    with pytest.raises(RemoteError) as exc:
        await call(client, server, 13)
    assert (exc.value.code, exc.value.message) == ("unlucky", "13 is not accepted here")


async def test_handler_crash_is_internal_and_the_server_keeps_serving(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    server, client = pair[0].swarm, pair[1].swarm
    with pytest.raises(RemoteError) as exc:
        await call(client, server, 666)
    assert exc.value.code == "internal"
    assert "handler bug" not in exc.value.message  # internals stay on the server
    assert (await call(client, server, 1, 1)).Total == 2


async def test_invalid_request_is_bad_request_naming_the_field(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    server, client = pair[0].swarm, pair[1].swarm

    class LooseSum(BaseModel):
        A: int
        B: int

    loose = Method(ADD.protocol, LooseSum, Total)
    with pytest.raises(RemoteError) as exc, trio.fail_after(WAIT):
        await client.rpc.call(server.peer_id, loose, LooseSum(A=1, B=-5))
    assert exc.value.code == "bad_request"
    assert exc.value.message.startswith("B:")


async def test_call_to_a_peer_that_went_away_is_unreachable(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    server, client = pair
    await server.stop()
    await wait_until(lambda: server.swarm.peer_id not in client.swarm.connected_peers())
    with pytest.raises(PeerUnreachable) as exc, trio.fail_after(WAIT):
        await client.swarm.rpc.call(server.swarm.peer_id, ADD, Sum(A=1), timeout=5)
    assert exc.value.peer_id == server.swarm.peer_id
    assert exc.value.refused  # its port is closed: it is gone, not slow


async def test_peer_that_comes_back_is_callable_again(
    start_swarm: StartSwarm, tmp_path: Path
) -> None:
    """A failed call does not make a peer unreachable after it is back up."""
    repo, port = tmp_path / "server", free_port()
    server = await start_swarm(repo=repo, port=port)
    server.swarm.rpc.register(ADD, add)
    client = await start_swarm(bootstrap=server.swarm.p2p_addrs)
    server_id = server.swarm.peer_id
    await wait_until(lambda: server_id in client.swarm.connected_peers())
    await server.stop()
    await wait_until(lambda: server_id not in client.swarm.connected_peers())
    with pytest.raises(PeerUnreachable), trio.fail_after(WAIT):
        await client.swarm.rpc.call(server_id, ADD, Sum(A=1), timeout=5)

    back = await start_swarm(repo=repo, port=port)
    back.swarm.rpc.register(ADD, add)
    with trio.fail_after(8):
        answer = await client.swarm.rpc.call_with_retry(
            server_id, ADD, Sum(A=1, B=2), timeout=2, attempts=math.inf, max_backoff=1
        )
    assert answer.Total == 3


@pytest.mark.parametrize(
    "peer",
    ["12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo", "0OIl-not-base58", ""],
    ids=["stranger", "not-an-id", "empty"],
)
async def test_call_to_an_unknown_peer_is_unreachable(
    pair: tuple[RunningSwarm, RunningSwarm], peer: str
) -> None:
    with pytest.raises(PeerUnreachable) as exc, trio.fail_after(WAIT):
        await pair[1].swarm.rpc.call(peer, ADD, Sum(A=1), timeout=5)
    assert not exc.value.refused  # no address to try is not proof it is gone


async def test_slow_handler_times_out(pair: tuple[RunningSwarm, RunningSwarm]) -> None:
    server, client = pair[0].swarm, pair[1].swarm
    with trio.fail_after(WAIT):
        start = trio.current_time()
        with pytest.raises(RpcTimeout) as exc:
            await client.rpc.call(server.peer_id, ADD, Sum(A=7), timeout=0.3)
        assert trio.current_time() - start < 3
    assert exc.value.method == ADD.protocol
    assert (await call(client, server, 1)).Total == 1  # the server is still fine


async def test_call_to_self_runs_the_handler(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    server = pair[0].swarm
    answer = await call(server, server, 20, 22)
    assert answer == Total(Total=42, Caller=server.peer_id)
    with pytest.raises(RemoteError) as exc:
        await call(server, server, 13)
    assert exc.value.code == "unlucky"
    with pytest.raises(RemoteError) as exc:
        await call(server, server, 666)
    assert exc.value.code == "internal"
    with pytest.raises(RpcTimeout):
        await server.rpc.call(server.peer_id, ADD, Sum(A=7), timeout=0.2)


async def test_call_to_self_for_a_method_not_served_is_unreachable(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    client = pair[1].swarm
    with pytest.raises(PeerUnreachable, match="not served"):
        await call(client, client, 1)


async def test_call_for_a_method_the_peer_does_not_serve(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    """The peer says so (e.g. it runs an older version), instead of timing out."""
    serves_nothing, caller = pair[1].swarm, pair[0].swarm
    with pytest.raises(RemoteError) as caught, trio.fail_after(WAIT):
        await caller.rpc.call(serves_nothing.peer_id, ADD, Sum(A=1), timeout=5)
    assert caught.value.code == "unknown_method"
    assert ADD.protocol in caught.value.message


async def test_a_node_still_starting_says_try_again_for_what_it_does_not_serve_yet(
    start_swarm: StartSwarm,
) -> None:
    """Until every part of a node has registered its handlers, a method it
    does not serve yet is "unavailable" (the caller retries; an execution
    update is kept), not unknown (the caller would give up)."""
    starting = await start_swarm(starting=True)
    caller = await start_swarm(bootstrap=starting.swarm.p2p_addrs)
    with pytest.raises(RemoteError) as caught, trio.fail_after(WAIT):
        await caller.swarm.rpc.call(starting.swarm.peer_id, ADD, Sum(A=1), timeout=5)
    assert caught.value.code == "unavailable"
    starting.swarm.rpc.all_registered()
    with pytest.raises(RemoteError) as caught, trio.fail_after(WAIT):
        await caller.swarm.rpc.call(starting.swarm.peer_id, ADD, Sum(A=1), timeout=5)
    assert caught.value.code == "unknown_method"


def request(call_id: int, body: bytes, method: str = ADD.protocol) -> bytes:
    return encode_frame(encode_request(call_id, method, body))


GARBAGE = [
    pytest.param(encode_frame(b"not a request frame"), id="frame-of-junk"),
    pytest.param(request(1, b'{"A": "x"}'), id="request-of-wrong-types"),
    pytest.param(request(1, b"{}", method="/no/such/1"), id="unknown-method"),
    pytest.param(encode_frame(b"Q\x00\x00\x00\x01\xff\xff"), id="name-overruns"),
    pytest.param(HEADER.pack(2**31) + b"junk", id="huge-header"),
    pytest.param(HEADER.pack(100) + b"short", id="truncated-frame"),
    pytest.param(b"\x00\x00", id="half-header"),
    pytest.param(b"", id="nothing"),
]


async def open_channel(client: Swarm, server: Swarm) -> INetStream:
    stream: INetStream = await client.host.new_stream(
        ID.from_base58(server.peer_id), [TProtocol(MUX_PROTOCOL)]
    )
    return stream


@pytest.mark.parametrize("garbage", GARBAGE)
@pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
async def test_garbage_on_a_channel_does_not_hurt_the_server(
    pair: tuple[RunningSwarm, RunningSwarm], garbage: bytes, reset: bool
) -> None:
    server, client = pair[0].swarm, pair[1].swarm
    with trio.fail_after(WAIT):
        stream = await open_channel(client, server)
        if garbage:
            await stream.write(garbage)
        await (stream.reset() if reset else stream.close())
    assert (await call(client, server, 40, 2)).Total == 42
    assert not pair[0].stopped.is_set()


async def test_a_bad_request_gets_a_bad_request_answer(
    pair: tuple[RunningSwarm, RunningSwarm],
) -> None:
    server, client = pair[0].swarm, pair[1].swarm
    with trio.fail_after(WAIT):
        stream = await open_channel(client, server)
        await stream.write(request(9, b"{{{"))
        call_id, answer = decode_answer(await read_frame(stream))
    assert call_id == 9
    assert answer[:1] == b"\x01"  # error status
    assert b'"Code":"bad_request"' in answer


def answered(body: bytes) -> bytes:
    return encode_frame(encode_answer(1, body))


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(answered(b"\x07{}"), id="unknown-status"),
        pytest.param(answered(b"\x00{not json"), id="ok-with-junk"),
        pytest.param(answered(b'\x00{"Total": "many"}'), id="ok-wrong-shape"),
        pytest.param(answered(b'\x01{"Code": 5}'), id="error-wrong-shape"),
        pytest.param(encode_frame(b""), id="empty-frame"),
        pytest.param(encode_frame(encode_answer(77, b"\x00{}")), id="someone-elses"),
        pytest.param(HEADER.pack(50) + b"cut", id="truncated"),
        pytest.param(b"", id="no-answer"),
    ],
)
async def test_a_misbehaving_peers_answer_is_a_p2p_error(
    start_swarm: StartSwarm, pair: tuple[RunningSwarm, RunningSwarm], answer: bytes
) -> None:
    """Whatever a peer answers, the caller gets one of our errors, no crash,
    and its calls to other peers go on working."""
    server, client = pair[0].swarm, pair[1].swarm
    rogue = (await start_swarm(bootstrap=client.p2p_addrs)).swarm
    await wait_until(lambda: rogue.peer_id in client.connected_peers())

    async def reply(stream: INetStream) -> None:
        await read_frame(stream)
        if answer:
            await stream.write(answer)
        await stream.close()

    rogue.host.set_stream_handler(TProtocol(MUX_PROTOCOL), reply)
    with pytest.raises(P2PError) as exc, trio.fail_after(WAIT):
        await client.rpc.call(rogue.peer_id, ADD, Sum(A=1), timeout=5)
    assert isinstance(exc.value, CodecError | PeerUnreachable | RpcTimeout)
    assert (await call(client, server, 1)).Total == 1  # the server is still fine
