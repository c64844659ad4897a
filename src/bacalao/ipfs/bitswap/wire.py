"""Bitswap messages on the wire: a hand-written protobuf codec and framing.

The schema (boxo's `bitswap/message/pb/message.proto`)::

    Message {
      Wantlist wantlist = 1 {
        repeated Entry entries = 1 { bytes block = 1; int32 priority = 2;
          bool cancel = 3; WantType wantType = 4 (Block=0, Have=1);
          bool sendDontHave = 5 }
        bool full = 2 }
      repeated bytes blocks = 2;              // 1.0.0: whole blocks
      repeated Block payload = 3 { bytes prefix = 1; bytes data = 2 }  // 1.1.0+
      repeated BlockPresence blockPresences = 4 { bytes cid = 1;
          BlockPresenceType type = 2 (Have=0, DontHave=1) }
      int32 pendingBytes = 5 }

Each message travels as <unsigned varint length><message>. Decoding refuses
anything else with `MalformedMessage` and nothing but it: unknown fields
are skipped (as protobuf does), sizes are bounded (a frame by
`MAX_MESSAGE`, as Kubo's `network.MessageSizeMax`; a block by `MAX_BLOCK`;
a CID by `MAX_CID`, as boxo's `MaximumAllowedCid`). No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum
from typing import TypeVar

from ..cid import CID, DAG_PB, SHA2_256
from .exceptions import MalformedMessage, MessageTooLarge

MAX_MESSAGE = 4 * 1024 * 1024
MAX_BLOCK = 2 * 1024 * 1024
MAX_CID = 168
MAX_PREFIX = 40

PROTOCOL_120 = "/ipfs/bitswap/1.2.0"
PROTOCOL_110 = "/ipfs/bitswap/1.1.0"
PROTOCOL_100 = "/ipfs/bitswap/1.0.0"
PROTOCOLS = (PROTOCOL_120, PROTOCOL_110, PROTOCOL_100)


class WantType(IntEnum):
    """What a wantlist entry asks for: the block, or whether it is held."""

    BLOCK = 0
    HAVE = 1


class PresenceType(IntEnum):
    """A block presence: the sender holds the block, or does not."""

    HAVE = 0
    DONT_HAVE = 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One wantlist entry: want (or cancel) a block or a HAVE for it."""

    cid: CID
    priority: int = 1
    cancel: bool = False
    want_type: WantType = WantType.BLOCK
    send_dont_have: bool = False


@dataclass(frozen=True, slots=True)
class Payload:
    """A block as 1.1.0+ sends it: its CID prefix and its bytes."""

    prefix: bytes
    data: bytes


@dataclass(frozen=True, slots=True)
class Presence:
    """HAVE or DONT_HAVE for a CID (1.2.0)."""

    cid: CID
    type: PresenceType


@dataclass(frozen=True, slots=True)
class Message:
    """One bitswap message; any part may be empty."""

    entries: tuple[Entry, ...] = ()
    full: bool = False
    blocks: tuple[bytes, ...] = ()
    payload: tuple[Payload, ...] = ()
    presences: tuple[Presence, ...] = ()
    pending_bytes: int = 0


def supports_have(protocol: str | None) -> bool:
    """Whether a peer speaking `protocol` answers HAVE / DONT_HAVE."""
    return protocol not in (PROTOCOL_110, PROTOCOL_100)


def for_protocol(msg: Message, protocol: str) -> Message:
    """`msg` as a peer speaking an older `protocol` understands it: blocks in
    `blocks` for 1.0.0, no presences, and want-haves asked as want-blocks
    (what Kubo does for such peers)."""
    if supports_have(protocol):
        return msg
    entries = tuple(
        replace(e, want_type=WantType.BLOCK, send_dont_have=False) for e in msg.entries
    )
    if protocol == PROTOCOL_100:
        blocks = msg.blocks + tuple(p.data for p in msg.payload)
        return Message(entries, msg.full, blocks=blocks)
    return Message(entries, msg.full, msg.blocks, msg.payload)


# -- encoding ----------------------------------------------------------------


def encode_frame(msg: Message) -> bytes:
    """The message with its varint length prefix; `MessageTooLarge` past
    `MAX_MESSAGE`."""
    parts = _message_parts(msg)
    size = sum(map(len, parts))
    if size > MAX_MESSAGE:
        raise MessageTooLarge(f"message of {size} bytes exceeds {MAX_MESSAGE}")
    return b"".join([_varint(size), *parts])


def encode_message(msg: Message) -> bytes:
    return b"".join(_message_parts(msg))


def _message_parts(msg: Message) -> list[bytes]:
    """The encoded message as pieces to join once (block data is not copied
    until then)."""
    parts: list[bytes] = []
    if msg.entries or msg.full:
        wantlist = b"".join(_field_bytes(1, _encode_entry(e)) for e in msg.entries)
        if msg.full:
            wantlist += _field_varint(2, 1)
        parts.append(_field_bytes(1, wantlist))
    for data in msg.blocks:
        parts += (_header(2, len(data)), data)
    for block in msg.payload:
        prefix = _field_bytes(1, block.prefix)
        data_header = _header(2, len(block.data))
        size = len(prefix) + len(data_header) + len(block.data)
        parts += (_header(3, size), prefix, data_header, block.data)
    for presence in msg.presences:
        inner = _field_bytes(1, presence.cid.to_bytes())
        if presence.type:
            inner += _field_varint(2, int(presence.type))
        parts.append(_field_bytes(4, inner))
    if msg.pending_bytes:
        parts.append(_field_varint(5, msg.pending_bytes))
    return parts


def _encode_entry(entry: Entry) -> bytes:
    out = _field_bytes(1, entry.cid.to_bytes())
    if entry.priority:
        out += _field_varint(2, entry.priority)
    if entry.cancel:
        out += _field_varint(3, 1)
    if entry.want_type:
        out += _field_varint(4, int(entry.want_type))
    if entry.send_dont_have:
        out += _field_varint(5, 1)
    return out


def _field_bytes(number: int, data: bytes) -> bytes:
    return _header(number, len(data)) + data


def _header(number: int, size: int) -> bytes:
    """Tag and length of a length-delimited field."""
    return _varint(number << 3 | 2) + _varint(size)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value & 0xFFFF_FFFF_FFFF_FFFF)


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# -- decoding ----------------------------------------------------------------


def decode_message(body: bytes) -> Message:
    """A message from its protobuf bytes; `MalformedMessage` says why not."""
    if len(body) > MAX_MESSAGE:
        raise MalformedMessage(f"message of {len(body)} bytes exceeds {MAX_MESSAGE}")
    entries: list[Entry] = []
    full = False
    blocks: list[bytes] = []
    payload: list[Payload] = []
    presences: list[Presence] = []
    pending = 0
    for number, value in _fields(memoryview(body)):
        if number == 1:
            wanted, full = _decode_wantlist(_need_bytes(value, "wantlist"))
            entries.extend(wanted)
        elif number == 2:
            blocks.append(_block_bytes(_need_bytes(value, "blocks")))
        elif number == 3:
            payload.append(_decode_payload(_need_bytes(value, "payload")))
        elif number == 4:
            presences.append(_decode_presence(_need_bytes(value, "blockPresences")))
        elif number == 5:
            pending = _int32(_need_int(value, "pendingBytes"))
    return Message(
        tuple(entries), full, tuple(blocks), tuple(payload), tuple(presences), pending
    )


def _decode_wantlist(data: memoryview) -> tuple[list[Entry], bool]:
    entries: list[Entry] = []
    full = False
    for number, value in _fields(data):
        if number == 1:
            entries.append(_decode_entry(_need_bytes(value, "wantlist entry")))
        elif number == 2:
            full = bool(_need_int(value, "full"))
    return entries, full


def _decode_entry(data: memoryview) -> Entry:
    cid: CID | None = None
    priority = 0
    cancel = send_dont_have = False
    want_type = WantType.BLOCK
    for number, value in _fields(data):
        if number == 1:
            cid = parse_cid(_need_bytes(value, "entry block"))
        elif number == 2:
            priority = _int32(_need_int(value, "priority"))
        elif number == 3:
            cancel = bool(_need_int(value, "cancel"))
        elif number == 4:
            want_type = _enum(WantType, _need_int(value, "wantType"))
        elif number == 5:
            send_dont_have = bool(_need_int(value, "sendDontHave"))
    if cid is None:
        raise MalformedMessage("wantlist entry without a CID")
    return Entry(cid, priority, cancel, want_type, send_dont_have)


def _decode_payload(data: memoryview) -> Payload:
    prefix = b""
    block = b""
    for number, value in _fields(data):
        if number == 1:
            prefix = bytes(_need_bytes(value, "prefix"))
        elif number == 2:
            block = _block_bytes(_need_bytes(value, "block data"))
    check_prefix(prefix)
    return Payload(prefix, block)


def _decode_presence(data: memoryview) -> Presence:
    cid: CID | None = None
    kind = PresenceType.HAVE
    for number, value in _fields(data):
        if number == 1:
            cid = parse_cid(_need_bytes(value, "presence cid"))
        elif number == 2:
            kind = _enum(PresenceType, _need_int(value, "presence type"))
    if cid is None:
        raise MalformedMessage("block presence without a CID")
    return Presence(cid, kind)


def parse_cid(raw: memoryview | bytes) -> CID:
    """A CID as a peer sends it. Only its structure is checked: a CID with a
    hash function this node does not compute is still a CID it can answer
    (DONT_HAVE) rather than a malformed message."""
    data = bytes(raw)
    if not data or len(data) > MAX_CID:
        raise MalformedMessage(f"CID of {len(data)} bytes")
    if len(data) == 34 and data[0] == SHA2_256 and data[1] == 32:
        return CID(0, DAG_PB, data)
    version, pos = _read_varint(data, 0)
    if version != 1:
        raise MalformedMessage(f"CID version {version}")
    codec, pos = _read_varint(data, pos)
    multihash = data[pos:]
    _code, at = _read_varint(multihash, 0)
    size, at = _read_varint(multihash, at)
    if len(multihash) - at != size:
        raise MalformedMessage("CID multihash length does not match its digest")
    return CID(1, codec, multihash)


def check_prefix(prefix: bytes) -> None:
    """A 1.1.0 block prefix is four varints: version, codec, hash, length."""
    if len(prefix) > MAX_PREFIX:
        raise MalformedMessage(f"block prefix of {len(prefix)} bytes")
    pos = 0
    for _ in range(4):
        _value, pos = _read_varint(prefix, pos)
    if pos != len(prefix):
        raise MalformedMessage("block prefix has trailing bytes")


_Value = int | memoryview
_E = TypeVar("_E", bound=IntEnum)


def _fields(data: memoryview) -> list[tuple[int, _Value]]:
    """(field number, value) pairs: ints for varints, views for bytes;
    fixed-width fields are skipped (no known field uses them)."""
    out: list[tuple[int, _Value]] = []
    pos = 0
    end = len(data)
    while pos < end:
        tag, pos = _read_varint(data, pos)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise MalformedMessage("protobuf field number 0")
        if wire_type == 0:
            value, pos = _read_varint(data, pos)
            out.append((number, value))
        elif wire_type == 2:
            size, pos = _read_varint(data, pos)
            if size > end - pos:
                raise MalformedMessage("protobuf field runs past the message")
            out.append((number, data[pos : pos + size]))
            pos += size
        elif wire_type in (1, 5):
            pos += 8 if wire_type == 1 else 4
            if pos > end:
                raise MalformedMessage("protobuf field runs past the message")
        else:
            raise MalformedMessage(f"protobuf wire type {wire_type}")
    return out


def _read_varint(data: memoryview | bytes | bytearray, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(pos, min(len(data), pos + 10)):
        byte = data[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    raise MalformedMessage("truncated or oversized varint")


def _need_bytes(value: _Value, name: str) -> memoryview:
    if isinstance(value, int):
        raise MalformedMessage(f"{name} is a number, not bytes")
    return value


def _need_int(value: _Value, name: str) -> int:
    if not isinstance(value, int):
        raise MalformedMessage(f"{name} is bytes, not a number")
    return value


def _block_bytes(value: memoryview) -> bytes:
    if len(value) > MAX_BLOCK:
        raise MalformedMessage(f"block of {len(value)} bytes exceeds {MAX_BLOCK}")
    return bytes(value)


def _int32(value: int) -> int:
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _enum(kind: type[_E], value: int) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise MalformedMessage(f"unknown {kind.__name__} {value}") from None


# -- framing -----------------------------------------------------------------


class FrameDecoder:
    """Turns stream bytes into message bodies (varint-length framed).

    Feed it what the stream gives; take complete bodies out. A length over
    `MAX_MESSAGE` raises `MalformedMessage` before its bytes arrive.
    """

    def __init__(self, *, limit: int = MAX_MESSAGE) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self._body: list[bytes] = []  # pieces of the body being read
        self._missing = 0
        self._need = -1

    def feed(self, data: bytes) -> list[bytes]:
        bodies: list[bytes] = []
        view = memoryview(data)
        while view:
            if self._need < 0:
                view = self._take_header(view)
                if self._need < 0:
                    break
            piece = view[: self._missing]
            view = view[len(piece) :]
            self._body.append(bytes(piece) if len(piece) < len(data) else data)
            self._missing -= len(piece)
            if not self._missing:
                bodies.append(b"".join(self._body))
                self._body.clear()
                self._need = -1
        return bodies

    def _take_header(self, view: memoryview) -> memoryview:
        """Move header bytes into the buffer until the length is known."""
        while view and self._need < 0:
            self._buffer.append(view[0])
            view = view[1:]
            if self._buffer[-1] < 0x80:
                length, _ = _read_varint(self._buffer, 0)
                self._buffer.clear()
                if length > self._limit:
                    raise MalformedMessage(f"frame of {length} bytes exceeds limit")
                self._need = self._missing = length
            elif len(self._buffer) >= 5:
                raise MalformedMessage("frame length varint too long")
        return view

    @property
    def idle(self) -> bool:
        """True between frames (a stream may end cleanly here)."""
        return self._need < 0 and not self._buffer
