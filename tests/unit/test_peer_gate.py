"""The allow-list's decisions and its file format, without a network."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from libp2p.crypto.ed25519 import create_new_key_pair

from bacalao.p2p.gate import PeerGate, check_peer_id, parse_peer_list
from bacalao.p2p.identity import peer_id_of

FRIEND = peer_id_of(create_new_key_pair(b"\x01" * 32))
STRANGER = peer_id_of(create_new_key_pair(b"\x02" * 32))
RSA_STYLE = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"  # sha2-256 multihash


def test_without_a_list_every_peer_is_admitted() -> None:
    gate = PeerGate()
    assert not gate.restricted
    assert gate.admit(STRANGER, inbound=True)
    assert gate.statistics().allow_list is None


def test_refusals_are_counted_by_direction_and_peer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bacalao.p2p.gate")
    gate = PeerGate([FRIEND])
    assert gate.admit(FRIEND, inbound=True)
    for _ in range(3):
        assert not gate.admit(STRANGER, inbound=True)
    assert not gate.admit(STRANGER, inbound=False)
    stats = gate.statistics()
    assert (stats.allow_list, stats.refused_inbound, stats.refused_outbound) == (
        1,
        3,
        1,
    )
    assert stats.refused_by_peer == {STRANGER: 4}
    assert len(caplog.records) == 1  # the rest within the minute are held back


def test_peer_list_files_take_comments_and_blank_lines() -> None:
    text = f"# the network\n{FRIEND}  # node 0\n\n   {RSA_STYLE}\n"
    assert parse_peer_list(text) == [FRIEND, RSA_STYLE]


@pytest.mark.parametrize(
    "entry",
    ["abc", "0OIl", "1" * 50, FRIEND[:-3], "/ip4/127.0.0.1/tcp/1235"],
)
def test_entries_that_are_not_peer_ids_are_refused_with_their_line(
    entry: str,
) -> None:
    with pytest.raises(ValueError, match=r"line 2: .* is not a peer ID"):
        parse_peer_list(f"{FRIEND}\n{entry}\n")


@given(st.text(max_size=80))
def test_any_text_is_a_peer_id_or_refused(text: str) -> None:
    try:
        accepted = check_peer_id(text)
    except ValueError as exc:
        reason = str(exc)
    else:
        assert accepted == text
        return
    assert "is not a peer ID" in reason


@given(st.binary(min_size=32, max_size=32))
def test_every_real_peer_id_is_accepted(seed: bytes) -> None:
    peer = peer_id_of(create_new_key_pair(seed))
    assert check_peer_id(peer) == peer
