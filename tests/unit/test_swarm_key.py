"""swarm.key files: what we write we read, Kubo's encodings, clear refusals."""

from __future__ import annotations

import base64
import contextlib
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.p2p.exceptions import InvalidSwarmKey
from bacalao.p2p.swarm_key import (
    check_hex_key,
    encode_swarm_key,
    new_swarm_key,
    parse_swarm_key,
    read_swarm_key,
    write_swarm_key,
)

keys = st.binary(min_size=32, max_size=32)
HEADER = b"/key/swarm/psk/1.0.0/\n"


@given(keys)
def test_a_written_key_reads_back(key: bytes) -> None:
    assert parse_swarm_key(encode_swarm_key(key).encode()) == key.hex()


@given(keys, st.sampled_from(["\n", "\r\n"]))
def test_every_encoding_go_libp2p_reads(key: bytes, newline: str) -> None:
    for encoding, body in (
        ("/base16/", key.hex().upper().encode()),
        ("/base64/", base64.b64encode(key)),
        ("/bin/", key),
    ):
        head = f"/key/swarm/psk/1.0.0/{newline}{encoding}{newline}".encode()
        assert parse_swarm_key(head + body) == key.hex()


@given(st.binary(max_size=200))
def test_any_bytes_are_a_key_or_a_clear_refusal(data: bytes) -> None:
    try:
        key = parse_swarm_key(data, "swarm.key")
    except InvalidSwarmKey as exc:
        reason = str(exc)
    else:
        assert len(bytes.fromhex(key)) == 32
        return
    assert reason.startswith("swarm.key: ")


@given(st.binary(max_size=100))
def test_any_bytes_after_the_headers_are_read_or_refused(body: bytes) -> None:
    for encoding in (b"/base16/\n", b"/base64/\n", b"/bin/\n"):
        with contextlib.suppress(InvalidSwarmKey):
            assert len(parse_swarm_key(HEADER + encoding + body)) == 64


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the first line must be /key/swarm/psk/1.0.0/"),
        (b"deadbeef" * 8, "the first line must be /key/swarm/psk/1.0.0/"),
        (HEADER + b"/base32/\nabc", "unknown key encoding '/base32/'"),
        (HEADER + b"/base16/\nabcd\n", "must be 32 bytes, this one is 2"),
        (HEADER + b"/base16/\n" + b"zz" * 32, "not hexadecimal"),
        (HEADER + b"/base64/\n!!!", "not base64"),
        (HEADER + b"/bin/\n" + b"\x01" * 31, "this one is 31"),
    ],
)
def test_what_is_wrong_is_said(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidSwarmKey, match=reason):
        parse_swarm_key(data, "k")


def test_generated_keys_are_random_and_valid() -> None:
    first, second = new_swarm_key(), new_swarm_key()
    assert first != second
    assert first.startswith("/key/swarm/psk/1.0.0/\n/base16/\n")
    assert len(parse_swarm_key(first.encode())) == 64


def test_written_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "swarm.key"
    text = new_swarm_key()
    write_swarm_key(path, text)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_swarm_key(path) == parse_swarm_key(text.encode())
    with pytest.raises(FileExistsError):
        write_swarm_key(path, new_swarm_key())
    assert path.read_text() == text


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidSwarmKey, match="nothere: cannot read it"):
        read_swarm_key(tmp_path / "nothere")


def test_inline_keys_are_64_hex_digits() -> None:
    assert check_hex_key("Ab" * 32 + "\n") == "ab" * 32
    for bad in ("ab" * 31, "g" * 64, ""):
        with pytest.raises(InvalidSwarmKey, match="64 hex digits"):
            check_hex_key(bad)
