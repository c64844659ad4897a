"""Walking DAGs: the links of a block, and everything reachable from roots.

Pure functions over a block getter, so the blockstore's garbage collector
(disk, worker thread) and tests share them. Only dag-pb blocks have
links; raw blocks are leaves; blocks of any other codec are kept but not
followed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from . import dagpb
from .cid import CID, DAG_PB


def links_of(cid: CID, block: bytes) -> list[CID]:
    """The CIDs `block` links to (`InvalidBlock` if it is malformed dag-pb)."""
    if cid.codec != DAG_PB:
        return []
    return [link.cid for link in dagpb.decode(block).links]


def reachable(roots: Iterable[CID], get: Callable[[CID], bytes | None]) -> set[bytes]:
    """Multihashes of every block reachable from `roots` that `get` finds.

    A block `get` does not have ends that branch (it is not there to keep);
    a malformed dag-pb block is kept but not followed.
    """
    seen: set[bytes] = set()
    stack = list(roots)
    while stack:
        cid = stack.pop()
        if cid.multihash in seen:
            continue
        block = get(cid)
        if block is None:
            continue
        seen.add(cid.multihash)
        try:
            stack.extend(links_of(cid, block))
        except ValueError:
            continue
    return seen
