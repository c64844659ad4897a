"""The protobuf wire format, as much as dag-pb and UnixFS need.

`fields(buf)` walks a message and yields (field number, wire type, value):
an int for varint and fixed-width fields, bytes for length-delimited ones.
Every length is checked against the bytes left before anything is sliced,
so a forged length costs nothing; anything malformed raises `InvalidBlock`.
"""

from __future__ import annotations

from collections.abc import Iterator

from .exceptions import InvalidBlock

VARINT = 0
FIXED64 = 1
LEN = 2
FIXED32 = 5
MAX_VARINT = 10
UINT64_LIMIT = 1 << 64


def read_varint(buf: bytes, pos: int, *, strict: bool = False) -> tuple[int, int]:
    """(value, next position). `strict` refuses non-minimal encodings."""
    value = shift = 0
    end = min(len(buf), pos + MAX_VARINT)
    for i in range(pos, end):
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value >= UINT64_LIMIT:
                raise InvalidBlock("varint does not fit 64 bits")
            if strict and byte == 0 and i > pos:
                raise InvalidBlock("varint is not minimally encoded")
            return value, i + 1
        shift += 7
    if end - pos == MAX_VARINT:
        raise InvalidBlock("varint longer than 10 bytes")
    raise InvalidBlock("truncated varint")


def fields(
    buf: bytes, *, strict: bool = False
) -> Iterator[tuple[int, int, int | bytes]]:
    """Each field of a message, in wire order."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos, strict=strict)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise InvalidBlock("field number 0")
        value: int | bytes
        if wire == VARINT:
            value, pos = read_varint(buf, pos, strict=strict)
        elif wire == LEN:
            size, pos = read_varint(buf, pos, strict=strict)
            if size > len(buf) - pos:
                raise InvalidBlock(f"field {number} claims {size} bytes, has fewer")
            value, pos = buf[pos : pos + size], pos + size
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if width > len(buf) - pos:
                raise InvalidBlock(f"field {number} is truncated")
            value = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
        else:
            raise InvalidBlock(f"field {number} has unsupported wire type {wire}")
        yield number, wire, value


def varint(value: int) -> bytes:
    """Unsigned LEB128 of a value below 2**64."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def len_field(number: int, payload: bytes) -> bytes:
    return key(number, LEN) + varint(len(payload)) + payload


def varint_field(number: int, value: int) -> bytes:
    return key(number, VARINT) + varint(value)
