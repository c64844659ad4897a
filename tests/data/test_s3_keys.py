"""Pure S3 key helpers: templates, selections, file paths, checksums."""

from __future__ import annotations

import base64
import hashlib
import posixpath
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bacalao.s3.keys import (
    Ids,
    expand_key,
    parse_checksum,
    relative,
    selection,
)

IDS = Ids(job_id="j-1", execution_id="e-2", node_id="n-3")
NOON = datetime(2026, 3, 4, 12, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("template", "compress", "key"),
    [
        ("out/{jobID}/{executionID}", False, "out/j-1/e-2/"),
        ("out/{nodeID}/", False, "out/n-3/"),
        ("{date}/{time}", True, "20260304/120509.tar.gz"),
        ("r/{jobID}.tar.gz", True, "r/j-1.tar.gz"),
        ("", False, ""),
        ("", True, ".tar.gz"),
    ],
)
def test_expand_key(template: str, compress: bool, key: str):
    assert expand_key(template, IDS, NOON, compress=compress) == key


@pytest.mark.parametrize(
    ("key", "prefix", "base", "single"),
    [
        ("data/a.txt", "data/a.txt", "data/", True),
        ("a.txt", "a.txt", "", True),
        ("data/", "data/", "data/", False),
        ("", "", "", False),
        ("data/part-*", "data/part-", "data/", False),
    ],
)
def test_selection(key: str, prefix: str, base: str, single: bool):
    chosen = selection(key)
    assert (chosen.prefix, chosen.base, chosen.single) == (prefix, base, single)


segment = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="/\\\x00"),
    min_size=0,
    max_size=8,
)


@given(st.lists(segment, min_size=1, max_size=5), st.sampled_from(["", "data/"]))
def test_relative_paths_never_escape(parts: list[str], base: str):
    key = base + "/".join(parts)
    try:
        path = relative(key, base)
    except ValueError:
        return
    if path is None:
        assert key.endswith("/")
        return
    assert not path.startswith("/")
    assert ".." not in path.split("/")
    assert posixpath.normpath(path) == path


def test_relative_examples():
    assert relative("data/sub/b.csv", "data/") == "sub/b.csv"
    assert relative("data/sub/", "data/") is None
    with pytest.raises(ValueError, match="cannot be a file path"):
        relative("data/../x", "data/")


@given(st.binary(min_size=0, max_size=64))
def test_checksums_in_hex_or_base64(data: bytes):
    digest = hashlib.sha256(data).digest()
    assert parse_checksum(digest.hex()) == digest
    assert parse_checksum(digest.hex().upper()) == digest
    assert parse_checksum(base64.b64encode(digest).decode()) == digest


@given(st.text(max_size=70))
def test_anything_else_is_refused(text: str):
    try:
        parsed = parse_checksum(text)
    except ValueError as exc:
        parsed = str(exc).encode()
    assert len(parsed) == 32 or b"SHA-256" in parsed
