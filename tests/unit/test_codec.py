"""Length-prefixed frames: what a peer writes is what the other reads."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.p2p.codec import (
    HEADER,
    FrameDecoder,
    encode_frame,
    read_frame,
    write_frame,
)
from bacalao.p2p.exceptions import CodecError, FrameTooLarge

payloads = st.lists(st.binary(max_size=300), max_size=12)


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def _drain(decoder: FrameDecoder) -> list[bytes]:
    frames = []
    while (frame := decoder.next_frame()) is not None:
        frames.append(frame)
    return frames


@given(payloads, st.lists(st.integers(min_value=0), max_size=40))
def test_frames_survive_any_chunking(frames: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(p) for p in frames)
    decoder = FrameDecoder()
    out: list[bytes] = []
    for chunk in _chunked(stream, cuts):
        decoder.feed(chunk)
        out.extend(_drain(decoder))
    assert out == frames
    assert decoder.pending_bytes == 0


@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0), max_size=20))
def test_random_bytes_give_frames_or_a_codec_error(
    data: bytes, cuts: list[int]
) -> None:
    decoder = FrameDecoder(limit=1024)
    try:
        for chunk in _chunked(data, cuts):
            decoder.feed(chunk)
    except CodecError:
        return
    consumed = sum(HEADER.size + len(f) for f in _drain(decoder))
    assert consumed + decoder.pending_bytes == len(data)


def test_partial_frame_is_held_until_complete() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(b'{"a": 1}')
    decoder.feed(frame[:5])
    assert decoder.next_frame() is None
    decoder.feed(frame[5:])
    assert decoder.next_frame() == b'{"a": 1}'
    assert decoder.next_frame() is None


def test_header_over_limit_is_refused_before_the_body_arrives() -> None:
    decoder = FrameDecoder(limit=10)
    with pytest.raises(FrameTooLarge):
        decoder.feed(HEADER.pack(11))


def test_payload_at_limit_is_accepted() -> None:
    decoder = FrameDecoder(limit=10)
    decoder.feed(encode_frame(b"x" * 10, limit=10))
    assert decoder.next_frame() == b"x" * 10


def test_encoder_refuses_payload_over_limit() -> None:
    with pytest.raises(FrameTooLarge):
        encode_frame(b"x" * 11, limit=10)


def test_frame_too_large_is_a_codec_error() -> None:
    """Callers that catch CodecError also catch oversized frames."""
    assert issubclass(FrameTooLarge, CodecError)


class FakeStream:
    """A byte stream that hands out at most `step` bytes per read."""

    def __init__(self, data: bytes = b"", step: int = 3) -> None:
        self.data = data
        self.step = step
        self.written = b""

    async def read(self, n: int | None = None) -> bytes:
        size = min(self.step, len(self.data) if n is None else n)
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    async def write(self, data: bytes) -> None:
        self.written += data


async def test_read_frame_reassembles_short_reads() -> None:
    stream = FakeStream(encode_frame(b"hello world") + encode_frame(b"next"))
    assert await read_frame(stream) == b"hello world"
    assert await read_frame(stream) == b"next"


async def test_write_then_read_round_trip() -> None:
    stream = FakeStream()
    await write_frame(stream, b'{"ID": "x"}')
    assert await read_frame(FakeStream(stream.written)) == b'{"ID": "x"}'


async def test_read_frame_of_empty_payload() -> None:
    assert await read_frame(FakeStream(encode_frame(b""))) == b""


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00",
        HEADER.pack(10),
        HEADER.pack(10) + b"short",
    ],
    ids=["nothing", "half-header", "header-only", "half-body"],
)
async def test_read_frame_of_stream_that_ends_early(data: bytes) -> None:
    with pytest.raises(CodecError, match="short"):
        await read_frame(FakeStream(data))


async def test_read_frame_refuses_header_over_limit() -> None:
    stream = FakeStream(HEADER.pack(1000) + b"x" * 1000)
    with pytest.raises(FrameTooLarge):
        await read_frame(stream, limit=999)
