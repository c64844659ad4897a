"""The bitswap protobuf codec and framing: round trips, limits, garbage."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.ipfs.bitswap import MalformedMessage, MessageTooLarge
from bacalao.ipfs.bitswap.wire import (
    MAX_BLOCK,
    MAX_MESSAGE,
    PROTOCOL_100,
    PROTOCOL_110,
    PROTOCOL_120,
    Entry,
    FrameDecoder,
    Message,
    Payload,
    Presence,
    PresenceType,
    WantType,
    decode_message,
    encode_frame,
    encode_message,
    for_protocol,
)
from bacalao.ipfs.cid import CID, RAW

cids = st.builds(
    lambda data, v1: CID.of(data, version=1, codec=RAW) if v1 else CID.of(data),
    st.binary(max_size=16),
    st.booleans(),
)
int32 = st.integers(-(2**31), 2**31 - 1)
entries = st.builds(
    Entry, cids, int32, st.booleans(), st.sampled_from(WantType), st.booleans()
)
messages = st.builds(
    Message,
    entries=st.lists(entries, max_size=5).map(tuple),
    full=st.booleans(),
    blocks=st.lists(st.binary(max_size=64), max_size=3).map(tuple),
    payload=st.lists(
        st.builds(lambda c, d: Payload(c.prefix(), d), cids, st.binary(max_size=64)),
        max_size=3,
    ).map(tuple),
    presences=st.lists(
        st.builds(Presence, cids, st.sampled_from(PresenceType)), max_size=3
    ).map(tuple),
    pending_bytes=int32,
)


@given(messages)
def test_every_message_round_trips(msg: Message) -> None:
    assert decode_message(encode_message(msg)) == msg


@given(st.lists(messages, min_size=1, max_size=4), st.integers(1, 50))
def test_frames_survive_any_split_of_the_stream(
    msgs: list[Message], piece: int
) -> None:
    stream = b"".join(encode_frame(m) for m in msgs)
    decoder = FrameDecoder()
    bodies = []
    for start in range(0, len(stream), piece):
        bodies.extend(decoder.feed(stream[start : start + piece]))
    assert [decode_message(b) for b in bodies] == msgs
    assert decoder.idle


@given(st.binary(max_size=512))
def test_random_bytes_never_raise_anything_but_malformed(raw: bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        decode_message(raw)
    with contextlib.suppress(MalformedMessage):
        for body in FrameDecoder().feed(raw):
            decode_message(body)


@given(messages, st.integers(0, 10_000), st.binary(min_size=1, max_size=4))
def test_corrupted_messages_never_raise_anything_but_malformed(
    msg: Message, at: int, junk: bytes
) -> None:
    raw = bytearray(encode_message(msg))
    if raw:
        at %= len(raw)
        raw[at : at + len(junk)] = junk
    with contextlib.suppress(MalformedMessage):
        decode_message(bytes(raw))


def test_field_numbers_are_the_specs() -> None:
    cid = CID.of(b"x")
    # wantlist(1){entries(1){block(1) priority(2)=5 cancel(3) wantType(4)=Have
    # sendDontHave(5)} full(2)}, blocks(2), payload(3){prefix(1) data(2)},
    # blockPresences(4){cid(1) type(2)=DontHave}, pendingBytes(5)=7
    entry = b"\x0a\x22" + cid.to_bytes() + b"\x10\x05\x18\x01\x20\x01\x28\x01"
    raw = (
        b"\x0a" + bytes([len(entry) + 4]) + b"\x0a" + bytes([len(entry)]) + entry
        + b"\x10\x01"
        + b"\x12\x02ab"
        + b"\x1a\x0a\x0a\x04" + cid.prefix() + b"\x12\x02cd"
        + b"\x22\x26\x0a\x22" + cid.to_bytes() + b"\x10\x01"
        + b"\x28\x07"
    )  # fmt: skip
    assert decode_message(raw) == Message(
        entries=(Entry(cid, 5, True, WantType.HAVE, True),),
        full=True,
        blocks=(b"ab",),
        payload=(Payload(cid.prefix(), b"cd"),),
        presences=(Presence(cid, PresenceType.DONT_HAVE),),
        pending_bytes=7,
    )


def test_unknown_fields_are_skipped_as_protobuf_does() -> None:
    extra = b"\x30\x01" + b"\x3a\x03xyz" + b"\x45\x00\x00\x00\x00"  # 6, 7, 8
    assert decode_message(extra + b"\x12\x01a") == Message(blocks=(b"a",))


def test_a_negative_priority_survives() -> None:
    msg = Message(entries=(Entry(CID.of(b"x"), priority=-3),))
    assert decode_message(encode_message(msg)) == msg


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x0a\x04\x0a\x02\x10\x01", "entry without a CID"),
        (b"\x12\x7f", "past the message"),
        (b"\x0b", "wire type 3"),
        (b"\x22\x03\x0a\x01\x00", "CID"),
        (b"\x1a\x03\x0a\x01\x80", "varint"),
        (b"\x0a\x02\x10\x05" + b"\x28" + b"\xff" * 11, "varint"),
    ],
)
def test_malformed_messages_say_why(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        decode_message(raw)


def test_a_frame_announcing_more_than_the_limit_is_refused_before_it_arrives() -> None:
    header = bytearray()
    length = MAX_MESSAGE + 1
    while length >= 0x80:
        header.append(length & 0x7F | 0x80)
        length >>= 7
    header.append(length)
    with pytest.raises(MalformedMessage, match="exceeds"):
        FrameDecoder().feed(bytes(header))


def test_a_block_over_2_mib_is_refused() -> None:
    big = b"\0" * (MAX_BLOCK + 1)
    with pytest.raises(MalformedMessage, match="block of"):
        decode_message(encode_message(Message(blocks=(big,))))


def test_sending_more_than_the_limit_is_refused() -> None:
    blocks = tuple(bytes([i]) * MAX_BLOCK for i in range(2))
    with pytest.raises(MessageTooLarge):
        encode_frame(Message(blocks=blocks))


def test_older_protocols_get_what_they_understand() -> None:
    data = b"block"
    cid = CID.of(data, version=1, codec=RAW)
    digest_cid = CID.of(hashlib.sha256(b"other").digest())
    msg = Message(
        entries=(Entry(cid, want_type=WantType.HAVE, send_dont_have=True),),
        payload=(Payload(cid.prefix(), data),),
        presences=(Presence(digest_cid, PresenceType.HAVE),),
    )
    assert for_protocol(msg, PROTOCOL_120) == msg
    v11 = for_protocol(msg, PROTOCOL_110)
    assert v11.entries == (Entry(cid),)  # want-have asked as want-block
    assert (v11.payload, v11.presences) == (msg.payload, ())
    v10 = for_protocol(msg, PROTOCOL_100)
    assert (v10.blocks, v10.payload, v10.presences) == ((data,), (), ())


def test_empty_messages_frame_and_unframe() -> None:
    assert FrameDecoder().feed(encode_frame(Message()) * 3) == [b"", b"", b""]
