"""Pure helpers for S3 keys: templates, prefixes, relative paths, checksums.

    expand_key("out/{jobID}/", ids, now, compress=False)  → "out/j-1…/"
    selection("data/")        → Selection(prefix="data/", base="data/")
    relative("data/a/b.txt", "data/")                    → "a/b.txt"
    parse_checksum("9f86d0…" or "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")

No I/O here; everything is tested alone (with hypothesis).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime

ARCHIVE_SUFFIX = ".tar.gz"
_UNSAFE_SEGMENTS = {"", ".", ".."}


@dataclass(frozen=True)
class Ids:
    """What a publisher's key template may name."""

    job_id: str
    execution_id: str
    node_id: str


def expand_key(template: str, ids: Ids, now: datetime, *, compress: bool) -> str:
    """A publisher's key: placeholders filled, `.tar.gz` or `/` at the end
    (a compressed result is one archive, an uncompressed one a prefix)."""
    key = template
    if compress and not key.endswith(ARCHIVE_SUFFIX):
        key += ARCHIVE_SUFFIX
    if not compress and key and not key.endswith("/"):
        key += "/"
    values = {
        "{jobID}": ids.job_id,
        "{executionID}": ids.execution_id,
        "{nodeID}": ids.node_id,
        "{date}": now.strftime("%Y%m%d"),
        "{time}": now.strftime("%H%M%S"),
    }
    for name, value in values.items():
        key = key.replace(name, value)
    return key


@dataclass(frozen=True)
class Selection:
    """Which keys a source means: one key, or every key under `prefix`;
    paths of the staged files are relative to `base`."""

    prefix: str
    base: str
    single: bool


def selection(key: str) -> Selection:
    """A key ending in `/` (or empty) is a prefix; one ending in `*` is a
    prefix too, named from its folder; anything else is one object."""
    if key == "" or key.endswith("/"):
        return Selection(prefix=key, base=key, single=False)
    if key.endswith("*"):
        prefix = key[:-1]
        return Selection(
            prefix=prefix, base=prefix[: prefix.rfind("/") + 1], single=False
        )
    return Selection(prefix=key, base=key[: key.rfind("/") + 1], single=True)


def relative(key: str, base: str) -> str | None:
    """`key`'s path under `base` for a file on disk; None for a folder
    marker (a key ending in `/`); ValueError for one that would escape."""
    if key.endswith("/"):
        return None
    rest = key[len(base) :] if key.startswith(base) else key
    parts = rest.split("/")
    if any(part in _UNSAFE_SEGMENTS for part in parts) or "\\" in rest:
        raise ValueError(f"key {key!r} cannot be a file path (empty, . or .. part)")
    return posixpath.join(*parts)


def matches(pattern: re.Pattern[str] | None, key: str) -> bool:
    """Whether a prefix's `Filter` keeps `key` (a regex searched in the key)."""
    return pattern is None or pattern.search(key) is not None


def parse_checksum(text: str) -> bytes:
    """A SHA-256 given as 64 hex digits or as base64 (as S3 prints it)."""
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            "ChecksumSHA256 must be a SHA-256: 64 hex digits or 44 base64 characters"
        )
    return raw
