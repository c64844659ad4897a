"""dag-pb and UnixFS codecs: Kubo's bytes, round trips, and refusal of garbage."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.ipfs import dagpb, unixfs
from bacalao.ipfs.cid import CID, DAG_PB, RAW
from bacalao.ipfs.dagpb import PBLink, PBNode
from bacalao.ipfs.exceptions import InvalidBlock
from bacalao.ipfs.unixfs import DataType, UnixFSData, UnixTime

EMPTY_FILE = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
EMPTY_DIR = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"

cids = st.builds(
    lambda data, v1, codec: CID.of(
        data, version=int(v1), codec=codec if v1 else DAG_PB
    ),
    st.binary(max_size=8),
    st.booleans(),
    st.sampled_from([DAG_PB, RAW]),
)
links = st.builds(
    PBLink,
    cids,
    st.one_of(st.none(), st.text(max_size=20)),
    st.one_of(st.none(), st.integers(0, 2**64 - 1)),
)
nodes = st.builds(
    PBNode,
    st.lists(links, max_size=5).map(tuple),
    st.one_of(st.none(), st.binary(max_size=64)),
)
u64 = st.integers(0, 2**64 - 1)
optional_u64 = st.one_of(st.none(), u64)
unixfs_data = st.builds(
    UnixFSData,
    st.sampled_from(DataType),
    st.one_of(st.none(), st.binary(max_size=64)),
    optional_u64,
    st.lists(u64, max_size=5).map(tuple),
    optional_u64,
    optional_u64,
    st.one_of(st.none(), st.integers(0, 2**32 - 1)),
    st.one_of(
        st.none(),
        st.builds(
            UnixTime,
            st.integers(-(2**63), 2**63 - 1),
            st.one_of(st.none(), st.integers(0, 999_999_999)),
        ),
    ),
)


def test_kubos_empty_file_and_directory_blocks() -> None:
    file_data = unixfs.encode(UnixFSData(DataType.FILE, filesize=0))
    assert str(CID.of(dagpb.encode(PBNode(data=file_data)))) == EMPTY_FILE
    dir_data = unixfs.encode(UnixFSData(DataType.DIRECTORY))
    assert str(CID.of(dagpb.encode(PBNode(data=dir_data)))) == EMPTY_DIR


def test_links_come_before_data_with_empty_name_kept() -> None:
    target = CID.parse(EMPTY_FILE)
    block = dagpb.encode(PBNode((PBLink(target, "", 6),), b"\x08\x02"))
    assert block.startswith(
        b"\x12\x28\x0a\x22" + target.to_bytes() + b"\x12\x00\x18\x06"
    )
    assert block.endswith(b"\x0a\x02\x08\x02")


@given(nodes)
def test_dagpb_round_trips(node: PBNode) -> None:
    assert dagpb.decode(dagpb.encode(node)) == node


@given(unixfs_data)
def test_unixfs_round_trips(data: UnixFSData) -> None:
    assert unixfs.decode(unixfs.encode(data)) == data


@given(st.binary(max_size=200))
def test_any_bytes_decode_canonically_or_raise_invalid_block(raw: bytes) -> None:
    try:
        node = dagpb.decode(raw)
    except InvalidBlock:
        return
    assert dagpb.encode(node) == raw


@given(nodes, st.integers(0, 300), st.integers(0, 255))
def test_corrupted_blocks_raise_only_invalid_block(
    node: PBNode, where: int, byte: int
) -> None:
    raw = bytearray(dagpb.encode(node))
    if raw:
        raw[where % len(raw)] = byte
    for data in (bytes(raw), bytes(raw[: where % (len(raw) + 1)])):
        with contextlib.suppress(InvalidBlock):
            dagpb.decode(data)


@given(st.binary(max_size=200))
def test_unixfs_garbage_raises_only_invalid_block(raw: bytes) -> None:
    with contextlib.suppress(InvalidBlock):
        unixfs.decode(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x12\xff\xff\xff\xff\x0f", "claims"),  # a 4 GiB link in 6 bytes
        (b"\x0a\x00\x12\x00", "follows Data"),
        (b"\x1a\x00", "unexpected field"),
        (b"\x12\x02\x12\x00", "without a Hash"),
        (b"\x12\x03\x0a\x01\x00", "not a CID"),
        (b"\x12" + b"\x80" * 11, "longer than 10"),
        (b"\x12\x80\x00", "minimally"),
    ],
)
def test_malformed_dagpb_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidBlock, match=reason):
        dagpb.decode(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"\x18\x01", "no Type"), (b"\x08\x09", "unknown Type"), (b"\x0a\x00", "wire")],
)
def test_malformed_unixfs_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidBlock, match=reason):
        unixfs.decode(raw)


def test_packed_blocksizes_are_read() -> None:
    assert unixfs.decode(b"\x08\x02\x22\x02\x05\x07").blocksizes == (5, 7)
