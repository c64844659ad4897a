"""dag-pb: the protobuf node format of UnixFS DAGs (codec 0x70).

    PBNode { Links = 2 (repeated PBLink), Data = 1 (bytes) }
    PBLink { Hash = 1 (CID bytes), Name = 2 (string), Tsize = 3 (uint64) }

Encoded the canonical way Kubo writes it: every link, then the data; in a
link, Hash, Name, Tsize. An absent Name or Tsize (None) is left out, an
empty one is written, so `encode(decode(b)) == b` for every block that
decodes. Decoding is as strict as the dag-pb spec: fields in that order,
no duplicates, no unknown fields, minimal varints, a Hash that is a CID,
a Name that is UTF-8. Anything else raises `InvalidBlock`.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import protobuf as pb
from .cid import CID, InvalidCID
from .exceptions import InvalidBlock


@dataclass(frozen=True, slots=True)
class PBLink:
    """A named, sized link to another block."""

    cid: CID
    name: str | None = ""
    tsize: int | None = None


@dataclass(frozen=True, slots=True)
class PBNode:
    """A dag-pb node: links and opaque data (a UnixFS `Data` message)."""

    links: tuple[PBLink, ...] = ()
    data: bytes | None = None


def encode(node: PBNode) -> bytes:
    """The node's canonical bytes."""
    parts = [pb.len_field(2, encode_link(link)) for link in node.links]
    if node.data is not None:
        parts.append(pb.len_field(1, node.data))
    return b"".join(parts)


def encode_link(link: PBLink) -> bytes:
    out = pb.len_field(1, link.cid.to_bytes())
    if link.name is not None:
        out += pb.len_field(2, link.name.encode())
    if link.tsize is not None:
        out += pb.varint_field(3, link.tsize)
    return out


def decode(block: bytes) -> PBNode:
    """A node from its bytes; `InvalidBlock` says why they are not one."""
    links: list[PBLink] = []
    data: bytes | None = None
    for number, wire, value in pb.fields(block, strict=True):
        if data is not None:
            raise InvalidBlock("dag-pb: a field follows Data")
        if number == 2 and wire == pb.LEN and isinstance(value, bytes):
            links.append(_decode_link(value))
        elif number == 1 and wire == pb.LEN and isinstance(value, bytes):
            data = bytes(value)
        else:
            raise InvalidBlock(f"dag-pb: unexpected field {number} (wire type {wire})")
    return PBNode(tuple(links), data)


def _decode_link(raw: bytes) -> PBLink:
    seen = 0
    cid: CID | None = None
    name: str | None = None
    tsize: int | None = None
    for number, wire, value in pb.fields(raw, strict=True):
        if number <= seen:
            raise InvalidBlock("dag-pb link: fields out of order or repeated")
        seen = number
        if number == 1 and wire == pb.LEN and isinstance(value, bytes):
            cid = _cid(value)
        elif number == 2 and wire == pb.LEN and isinstance(value, bytes):
            name = _utf8(value)
        elif number == 3 and wire == pb.VARINT and isinstance(value, int):
            tsize = value
        else:
            raise InvalidBlock(f"dag-pb link: unexpected field {number}")
    if cid is None:
        raise InvalidBlock("dag-pb link without a Hash")
    return PBLink(cid, name, tsize)


def _cid(raw: bytes) -> CID:
    try:
        return CID.from_bytes(bytes(raw))
    except InvalidCID as exc:
        raise InvalidBlock(f"dag-pb link Hash is not a CID: {exc}") from None


def _utf8(raw: bytes) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidBlock("dag-pb link Name is not UTF-8") from None
