"""Private-network keys in the `swarm.key` file format of go-libp2p and Kubo.

A node started with a swarm key only talks to nodes holding the same key:
every connection is encrypted with it before the Noise handshake, so a
node without it cannot even negotiate a protocol. The file is three lines:

    /key/swarm/psk/1.0.0/
    /base16/
    <64 hex digits: the 32-byte key>

`/base64/` and `/bin/` encodings are read as well (go-libp2p accepts
them); we write `/base16/`. Standard library only: the CLI's
`swarm-key generate` imports this without libp2p.

Note: py-libp2p's connection protector (Salsa20, 8-byte nonce) is not
wire-compatible with go-libp2p's (XSalsa20, 24-byte nonce), so the same
file admits bacalao nodes only, not Kubo peers.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import string
from pathlib import Path

from .exceptions import InvalidSwarmKey

HEADER = b"/key/swarm/psk/1.0.0/"
KEY_BYTES = 32
GENERATE_HINT = "create one with `bacalao swarm-key generate --output FILE`"


def new_swarm_key() -> str:
    """The text of a new swarm.key file holding a random key."""
    return encode_swarm_key(secrets.token_bytes(KEY_BYTES))


def encode_swarm_key(key: bytes) -> str:
    """The swarm.key text (base16) of a 32-byte `key`."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a swarm key is {KEY_BYTES} bytes, not {len(key)}")
    return f"{HEADER.decode()}\n/base16/\n{key.hex()}\n"


def parse_swarm_key(data: bytes, source: str | None = None) -> str:
    """The key in swarm.key `data`, as 64 lowercase hex digits.

    Raises `InvalidSwarmKey` (naming `source`) saying what is wrong.
    """
    header, _, rest = data.partition(b"\n")
    if header.rstrip(b"\r") != HEADER:
        raise InvalidSwarmKey(
            source,
            f"not a swarm key file (the first line must be {HEADER.decode()})",
        )
    encoding, _, body = rest.partition(b"\n")
    return _decode(encoding.rstrip(b"\r"), body, source).hex()


def _decode(encoding: bytes, body: bytes, source: str | None) -> bytes:
    if encoding == b"/base16/":
        text = _ascii(body, source)
        if not all(c in string.hexdigits for c in text):
            raise InvalidSwarmKey(source, "the key is not hexadecimal")
        key = bytes.fromhex(text) if len(text) % 2 == 0 else b""
    elif encoding == b"/base64/":
        try:
            key = base64.b64decode(_ascii(body, source), validate=True)
        except binascii.Error as exc:
            raise InvalidSwarmKey(source, f"the key is not base64 ({exc})") from None
    elif encoding == b"/bin/":
        key = body[:KEY_BYTES]
    else:
        shown = encoding.decode("ascii", "replace")[:40]
        raise InvalidSwarmKey(
            source,
            f"unknown key encoding {shown!r} on line 2 "
            "(expected /base16/, /base64/ or /bin/)",
        )
    if len(key) != KEY_BYTES:
        raise InvalidSwarmKey(
            source, f"the key must be {KEY_BYTES} bytes, this one is {len(key)}"
        )
    return key


def _ascii(body: bytes, source: str | None) -> str:
    try:
        return "".join(body.decode("ascii").split())
    except UnicodeDecodeError:
        raise InvalidSwarmKey(source, "the key contains non-ASCII bytes") from None


def check_hex_key(text: str) -> str:
    """`text` (a key given inline, e.g. BACALAO_SWARM_KEY) as 64 lowercase
    hex digits; `InvalidSwarmKey` if it is not one."""
    key = text.strip()
    if len(key) != 2 * KEY_BYTES or not all(c in string.hexdigits for c in key):
        raise InvalidSwarmKey(
            None, f"a swarm key given inline must be {2 * KEY_BYTES} hex digits"
        )
    return key.lower()


def read_swarm_key(path: Path) -> str:
    """The key in the swarm.key file at `path` (blocking: call it off the
    trio loop); `InvalidSwarmKey` naming the file if it cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidSwarmKey(
            str(path), f"cannot read it ({exc.strerror or exc})"
        ) from None
    return parse_swarm_key(data, str(path))


def write_swarm_key(path: Path, text: str) -> None:
    """Write swarm.key `text` to a new file at `path`, readable by its owner
    only (0600). `FileExistsError` rather than replace a network's key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


__all__ = [
    "check_hex_key",
    "encode_swarm_key",
    "new_swarm_key",
    "parse_swarm_key",
    "read_swarm_key",
    "write_swarm_key",
]
