"""CIDs: the text and binary forms Kubo uses, and refusal of garbage."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.ipfs.cid import CID, DAG_PB, RAW, InvalidCID, cid_from_prefix

HELLO_V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"
HELLO_RAW_V1 = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"


def test_v0_text_round_trips() -> None:
    cid = CID.parse(HELLO_V0)
    assert (cid.version, cid.codec) == (0, DAG_PB)
    assert str(cid) == HELLO_V0
    assert CID.from_bytes(cid.to_bytes()) == cid


def test_raw_leaf_v1_of_hello_is_kubos() -> None:
    assert str(CID.of(b"hello\n", version=1, codec=RAW)) == HELLO_RAW_V1
    assert CID.parse(HELLO_RAW_V1).codec == RAW


def test_path_form_parses() -> None:
    cid = CID.parse(HELLO_RAW_V1)
    assert CID.parse("/ipfs/" + HELLO_RAW_V1 + "/a/b") == cid


@pytest.mark.parametrize(
    "text",
    ["", "Qm", "hello", "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXE0", "bafy!!"],
)
def test_garbage_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidCID):
        CID.parse(text)


@given(st.binary(max_size=256), st.sampled_from([DAG_PB, RAW]), st.integers(0, 1))
def test_any_block_cid_round_trips_and_verifies(
    data: bytes, codec: int, version: int
) -> None:
    cid = CID.of(data, version=version, codec=DAG_PB if version == 0 else codec)
    assert CID.parse(str(cid)) == cid
    assert CID.parse(cid.to_bytes()) == cid
    assert cid.verify(data)
    assert not cid.verify(data + b"x")
    assert cid_from_prefix(cid.prefix(), data) == cid


@given(st.binary(max_size=64))
def test_random_bytes_never_crash_the_parser(raw: bytes) -> None:
    with contextlib.suppress(InvalidCID):
        CID.from_bytes(raw)
