"""UnixFS `Data`: what a dag-pb node is (file, directory, symlink, ...).

    Data { Type = 1, Data = 2, filesize = 3, blocksizes = 4 (repeated),
           hashType = 5, fanout = 6, mode = 7, mtime = 8 (UnixTime) }
    UnixTime { Seconds = 1 (int64), FractionalNanoseconds = 2 (fixed32) }

Written in field-number order with `blocksizes` unpacked, as Kubo writes
it; read with protobuf's usual leniency (any field order, packed or not,
unknown fields skipped). A missing or unknown Type, a field of the wrong
wire type or a malformed message raises `InvalidBlock`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from . import protobuf as pb
from .exceptions import InvalidBlock

_INT64_SIGN = 1 << 63


class DataType(enum.IntEnum):
    """The kinds of UnixFS node."""

    RAW = 0
    DIRECTORY = 1
    FILE = 2
    METADATA = 3
    SYMLINK = 4
    HAMT_SHARD = 5


@dataclass(frozen=True, slots=True)
class UnixTime:
    """A modification time: seconds since the epoch and optional nanoseconds."""

    seconds: int
    nanos: int | None = None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    """A decoded UnixFS `Data` message; None means the field is absent."""

    type: DataType
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = ()
    hash_type: int | None = None
    fanout: int | None = None
    mode: int | None = None
    mtime: UnixTime | None = None


def encode(node: UnixFSData) -> bytes:
    parts = [pb.varint_field(1, node.type)]
    if node.data is not None:
        parts.append(pb.len_field(2, node.data))
    if node.filesize is not None:
        parts.append(pb.varint_field(3, node.filesize))
    parts.extend(pb.varint_field(4, size) for size in node.blocksizes)
    if node.hash_type is not None:
        parts.append(pb.varint_field(5, node.hash_type))
    if node.fanout is not None:
        parts.append(pb.varint_field(6, node.fanout))
    if node.mode is not None:
        parts.append(pb.varint_field(7, node.mode))
    if node.mtime is not None:
        parts.append(pb.len_field(8, _encode_time(node.mtime)))
    return b"".join(parts)


def decode(raw: bytes) -> UnixFSData:
    """A `Data` message from its bytes; `InvalidBlock` says why it is not one."""
    values: dict[int, int | bytes] = {}
    blocksizes: list[int] = []
    for number, wire, value in pb.fields(raw):
        if number == 4:
            blocksizes.extend(_blocksizes(wire, value))
        elif number in _WIRE:
            if wire != _WIRE[number]:
                raise InvalidBlock(f"unixfs: field {number} has wire type {wire}")
            values[number] = value
    return _build(values, tuple(blocksizes))


_WIRE = {1: pb.VARINT, 2: pb.LEN, 3: pb.VARINT, 5: pb.VARINT, 6: pb.VARINT}
_WIRE |= {7: pb.VARINT, 8: pb.LEN}


def _build(values: dict[int, int | bytes], blocksizes: tuple[int, ...]) -> UnixFSData:
    type_number = _int(values.get(1))
    if type_number is None:
        raise InvalidBlock("unixfs: Data has no Type")
    try:
        kind = DataType(type_number)
    except ValueError:
        raise InvalidBlock(f"unixfs: unknown Type {type_number}") from None
    mode = _int(values.get(7))
    if mode is not None and mode >= 1 << 32:
        raise InvalidBlock("unixfs: mode does not fit 32 bits")
    mtime = values.get(8)
    return UnixFSData(
        type=kind,
        data=bytes(v) if isinstance(v := values.get(2), bytes) else None,
        filesize=_int(values.get(3)),
        blocksizes=blocksizes,
        hash_type=_int(values.get(5)),
        fanout=_int(values.get(6)),
        mode=mode,
        mtime=_decode_time(mtime) if isinstance(mtime, bytes) else None,
    )


def _int(value: int | bytes | None) -> int | None:
    return value if isinstance(value, int) else None


def _blocksizes(wire: int, value: int | bytes) -> list[int]:
    if wire == pb.VARINT and isinstance(value, int):
        return [value]
    if wire == pb.LEN and isinstance(value, bytes):  # packed
        sizes, pos = [], 0
        while pos < len(value):
            size, pos = pb.read_varint(value, pos)
            sizes.append(size)
        return sizes
    raise InvalidBlock(f"unixfs: blocksizes has wire type {wire}")


def _encode_time(time: UnixTime) -> bytes:
    out = pb.varint_field(1, time.seconds % (1 << 64))
    if time.nanos is not None:
        out += pb.key(2, pb.FIXED32) + time.nanos.to_bytes(4, "little")
    return out


def _decode_time(raw: bytes) -> UnixTime:
    seconds: int | None = None
    nanos: int | None = None
    for number, wire, value in pb.fields(raw):
        if number == 1 and wire == pb.VARINT and isinstance(value, int):
            seconds = value - (1 << 64) if value & _INT64_SIGN else value
        elif number == 2 and wire == pb.FIXED32 and isinstance(value, int):
            nanos = value
        elif number in (1, 2):
            raise InvalidBlock(f"unixfs mtime: field {number} has wire type {wire}")
    if seconds is None:
        raise InvalidBlock("unixfs mtime without Seconds")
    return UnixTime(seconds, nanos)
