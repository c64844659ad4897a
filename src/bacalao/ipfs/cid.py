"""Content identifiers (CIDs): parse, build and print them.

A CID names a block by the hash of its bytes. Two versions exist:

    CIDv0   base58btc text `Qm…`; binary is the bare multihash; always
            dag-pb, sha2-256 (what Kubo's `ipfs add` gives by default)
    CIDv1   multibase text (base32 `b…` by default); binary is
            <varint version=1><varint codec><multihash>

A multihash is <varint hash code><varint digest length><digest>. Only
sha2-256 is produced here; the identity hash (0x00) is understood when
parsing, because peers may send it. `CID.parse` raises `InvalidCID` with
the reason; it accepts text (v0 or v1 in base32, base58btc or base36) and
binary.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

DAG_PB = 0x70
RAW = 0x55
SHA2_256 = 0x12
IDENTITY = 0x00
CODEC_NAMES = {DAG_PB: "dag-pb", RAW: "raw", 0x71: "dag-cbor", 0x0129: "dag-json"}
MAX_DIGEST = 128

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


class InvalidCID(ValueError):
    """Raised when text or bytes are not a CID this node understands."""


@dataclass(frozen=True, slots=True)
class CID:
    """A content identifier: version, codec and multihash (binary)."""

    version: int
    codec: int
    multihash: bytes

    # -- building ---------------------------------------------------------

    @classmethod
    def v0(cls, digest: bytes) -> CID:
        return cls(0, DAG_PB, multihash(SHA2_256, digest))

    @classmethod
    def v1(cls, codec: int, digest: bytes) -> CID:
        return cls(1, codec, multihash(SHA2_256, digest))

    @classmethod
    def of(cls, data: bytes, *, version: int = 0, codec: int = DAG_PB) -> CID:
        """The CID of `data` (sha2-256)."""
        digest = hashlib.sha256(data).digest()
        return cls.v0(digest) if version == 0 else cls.v1(codec, digest)

    # -- reading ----------------------------------------------------------

    @classmethod
    def parse(cls, value: str | bytes) -> CID:
        """A CID from its text or binary form; `InvalidCID` says why not."""
        if isinstance(value, bytes):
            return cls.from_bytes(value)
        text = value.strip()
        if text.startswith("/ipfs/"):
            text = text[len("/ipfs/") :].split("/", 1)[0]
        if not text:
            raise InvalidCID("empty CID")
        if len(text) == 46 and text.startswith("Qm"):
            return cls.from_bytes(_b58decode(text))
        prefix, body = text[0], text[1:]
        try:
            if prefix in "bB":
                raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
            elif prefix == "z":
                raw = _b58decode(body)
            elif prefix in "kK":
                raw = _b36decode(body.lower())
            else:
                raise InvalidCID(f"{text!r} is not a CID (unknown multibase prefix)")
        except (ValueError, TypeError) as exc:
            if isinstance(exc, InvalidCID):
                raise
            raise InvalidCID(f"{text!r} is not a CID: {exc}") from None
        cid = cls.from_bytes(raw)
        if cid.version == 0:
            raise InvalidCID(f"{text!r}: a CIDv0 is written in base58 only")
        return cid

    @classmethod
    def from_bytes(cls, raw: bytes) -> CID:
        if len(raw) == 34 and raw[0] == SHA2_256 and raw[1] == 32:
            return cls(0, DAG_PB, bytes(raw))
        version, pos = read_varint(raw, 0)
        if version != 1:
            raise InvalidCID(f"unsupported CID version {version}")
        codec, pos = read_varint(raw, pos)
        mh = bytes(raw[pos:])
        check_multihash(mh)
        return cls(1, codec, mh)

    # -- writing ----------------------------------------------------------

    def to_bytes(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return varint(1) + varint(self.codec) + self.multihash

    def encode(self) -> str:
        """Text form: base58btc for v0, base32 (lower case, `b`) for v1."""
        if self.version == 0:
            return _b58encode(self.multihash)
        text = base64.b32encode(self.to_bytes()).decode().lower().rstrip("=")
        return "b" + text

    def __str__(self) -> str:
        return self.encode()

    @property
    def digest(self) -> bytes:
        _code, pos = read_varint(self.multihash, 0)
        size, pos = read_varint(self.multihash, pos)
        return self.multihash[pos : pos + size]

    @property
    def hash_code(self) -> int:
        return read_varint(self.multihash, 0)[0]

    def prefix(self) -> bytes:
        """Bitswap 1.1's block prefix: version, codec, hash code, length."""
        code, pos = read_varint(self.multihash, 0)
        size, _ = read_varint(self.multihash, pos)
        return varint(self.version) + varint(self.codec) + varint(code) + varint(size)

    def verify(self, data: bytes) -> bool:
        """True if `data` hashes to this CID."""
        code = self.hash_code
        if code == SHA2_256:
            return hashlib.sha256(data).digest() == self.digest
        if code == IDENTITY:
            return data == self.digest
        return False


def cid_from_prefix(prefix: bytes, data: bytes) -> CID:
    """The CID of a block received with its bitswap 1.1 prefix."""
    version, pos = read_varint(prefix, 0)
    codec, pos = read_varint(prefix, pos)
    code, pos = read_varint(prefix, pos)
    if code == SHA2_256:
        digest = hashlib.sha256(data).digest()
    elif code == IDENTITY:
        digest = data
    else:
        raise InvalidCID(f"unsupported hash function 0x{code:x}")
    if version == 0:
        return CID.v0(digest)
    return CID(1, codec, multihash(code, digest))


def multihash(code: int, digest: bytes) -> bytes:
    return varint(code) + varint(len(digest)) + digest


def check_multihash(mh: bytes) -> None:
    code, pos = read_varint(mh, 0)
    size, pos = read_varint(mh, pos)
    if code not in (SHA2_256, IDENTITY):
        raise InvalidCID(f"unsupported hash function 0x{code:x}")
    if size > MAX_DIGEST or len(mh) - pos != size:
        raise InvalidCID("multihash length does not match its digest")


def varint(value: int) -> bytes:
    """Unsigned LEB128, as multiformats use."""
    if value < 0:
        raise ValueError("varint of a negative number")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position); `InvalidCID` if truncated or over 9 bytes."""
    value = shift = 0
    for i in range(pos, min(len(data), pos + 9)):
        byte = data[i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i + 1
        shift += 7
    raise InvalidCID("truncated or oversized varint")


def _b58encode(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(_B58[rem])
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise InvalidCID(f"{char!r} is not a base58 character")
        number = number * 58 + digit
    pad = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * pad + body


def _b36decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _B36.find(char)
        if digit < 0:
            raise InvalidCID(f"{char!r} is not a base36 character")
        number = number * 36 + digit
    pad = len(text) - len(text.lstrip("0"))
    return b"\0" * pad + number.to_bytes((number.bit_length() + 7) // 8, "big")
