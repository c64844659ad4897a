"""`IpfsPeer`: the IPFS peer a node is, on the swarm's own libp2p host.

It puts together the node's on-disk blockstore (`REPO/ipfs`) and bitswap,
and offers what the rest of the node uses:

    imported = await peer.add(path)              # pinned; CID like `ipfs add`
    await peer.fetch(cid, providers=[node_id])   # the whole DAG, then pinned
    await peer.export(cid, dest)                 # write it out (local blocks)
    async for chunk in peer.tar(cid, "name"): ...

`fetch` walks the DAG level by level and asks bitswap for every block of
a level that is missing at once, so blocks come from several providers in
parallel; a level is at most `FETCH_BATCH` blocks. A fetch that stalls
for `no_progress_timeout` seconds fails naming the CID (no hang). While a
fetch runs, the store is held, so gc cannot take blocks not yet pinned.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from pathlib import Path

import trio

from ..p2p.host import Swarm
from .bitswap import Bitswap
from .blocks import Blocks
from .blockstore import Blockstore, GcResult, StoreStat
from .cid import CID
from .dag import links_of
from .exceptions import BlockNotFound, InvalidBlock, IpfsError
from .exporter import Entry, cat, export, ls
from .importer import Imported, ImportOptions
from .pins import Pin
from .tar import dag_size, tar_chunks

log = logging.getLogger(__name__)

FETCH_BATCH = 1024
HELD_ADVERTISED = 64  # recent roots named in node info (data locality)
DEFAULT_NO_PROGRESS = 30.0
Progress = Callable[[int], None]


class IpfsPeer:
    """The node's IPFS peer: blocks on disk, served and fetched by bitswap."""

    def __init__(
        self,
        repo: Path,
        swarm: Swarm,
        *,
        external_peers: Sequence[str] = (),
        no_progress_timeout: float = DEFAULT_NO_PROGRESS,
    ) -> None:
        self.root = repo / "ipfs"
        self._swarm = swarm
        self._external = list(external_peers)
        self.no_progress_timeout = no_progress_timeout
        self._store: Blockstore | None = None
        self._bitswap: Bitswap | None = None
        # roots pinned most recently, newest last: what node info advertises
        self._recent: dict[str, None] = {}
        self.on_pinned: Callable[[], None] = lambda: None

    def held(self, limit: int = HELD_ADVERTISED) -> list[str]:
        """The CIDs (text) of the roots this node pinned last, newest first."""
        return list(reversed(self._recent))[:limit]

    def _pinned(self, cid: CID) -> None:
        key = str(cid)
        self._recent.pop(key, None)
        self._recent[key] = None
        while len(self._recent) > HELD_ADVERTISED:
            del self._recent[next(iter(self._recent))]
        self.on_pinned()

    @property
    def store(self) -> Blockstore:
        assert self._store is not None, "the IPFS peer is not running"
        return self._store

    @property
    def bitswap(self) -> Bitswap:
        assert self._bitswap is not None, "the IPFS peer is not running"
        return self._bitswap

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        self._store = await Blockstore.open(self.root)
        for pin in await self._store.pin_ls():
            self._recent[str(pin.cid)] = None
        try:
            self._bitswap = Bitswap(self._swarm, self._store)
            for address in self._external:
                self._bitswap.add_peer(address)
            async with trio.open_nursery() as nursery:
                await nursery.start(self._bitswap.run)
                task_status.started()
        finally:
            self._store.close()

    # -- adding -------------------------------------------------------------

    async def add(
        self,
        path: Path,
        *,
        cid_version: int = 0,
        name: str = "",
        pin: bool = True,
        include_hidden: bool = False,
    ) -> Imported:
        """Import `path` (file or tree) and pin it; peers may fetch it at once."""
        options = ImportOptions(cid_version=cid_version, include_hidden=include_hidden)
        imported = await self.store.add(path, options, pin=pin, name=name)
        self.bitswap.notify_new_blocks([imported.cid])
        if pin:
            self._pinned(imported.cid)
        return imported

    # -- fetching -----------------------------------------------------------

    async def fetch(
        self,
        cid: CID,
        *,
        providers: Sequence[str] = (),
        no_progress_timeout: float | None = None,
        progress: Progress | None = None,
        pin: bool = True,
    ) -> None:
        """Make the whole DAG under `cid` local (from `providers`, the
        external peers and connected peers) and pin it. `BlockNotFound`
        names what nobody provided within the no-progress timeout."""
        timeout = no_progress_timeout or self.no_progress_timeout
        async with self.store.holding():
            level = [cid]
            while level:
                level = await self._fetch_level(level, providers, timeout, progress)
            if pin:
                await self.store.pin_add(cid)
                self._pinned(cid)

    async def _fetch_level(
        self,
        level: list[CID],
        providers: Sequence[str],
        timeout: float,
        progress: Progress | None,
    ) -> list[CID]:
        """Fetch what is missing of `level`; returns the next level."""
        following: list[CID] = []
        for start in range(0, len(level), FETCH_BATCH):
            batch = level[start : start + FETCH_BATCH]
            missing = []
            for cid in batch:
                block = await self.store.get(cid)
                if block is None:
                    missing.append(cid)
                else:
                    following += _links(cid, block)
            if not missing:
                continue
            wanted = self.bitswap.get_blocks(
                missing, providers=list(providers) or None, no_progress_timeout=timeout
            )
            async with aclosing(wanted) as arriving:
                async for got, data in arriving:
                    following += _links(got, data)
                    if progress is not None:
                        progress(len(data))
        return following

    async def stream_tar(
        self,
        cid: CID,
        name: str,
        write: Callable[[bytes], Awaitable[None]],
        *,
        providers: Sequence[str] = (),
        no_progress_timeout: float | None = None,
    ) -> None:
        """Fetch the DAG under `cid` and write it as a tar while it arrives
        (the archive streams as soon as its first blocks are here)."""
        arrivals = _Arrivals(self.store)

        async def fetch() -> None:
            try:
                await self.fetch(
                    cid,
                    providers=providers,
                    no_progress_timeout=no_progress_timeout,
                    progress=arrivals.arrived,
                )
            except Exception as exc:
                arrivals.failed(exc)
            else:
                arrivals.failed(None)

        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(fetch)
                async with aclosing(tar_chunks(arrivals, cid, name)) as chunks:
                    async for chunk in chunks:
                        await write(chunk)
        except* IpfsError as group:  # the fetch's error, as itself
            raise group.exceptions[0] from None

    def remote(
        self, providers: Sequence[str] = (), no_progress_timeout: float | None = None
    ) -> Blocks:
        """`Blocks` that fetches a missing block when it is read (one at a
        time: for reading a little of a DAG, e.g. `ls` or a small `cat`)."""
        return _OnDemand(
            self.store,
            self.bitswap,
            list(providers),
            no_progress_timeout or self.no_progress_timeout,
        )

    # -- reading (local blocks) --------------------------------------------

    async def export(self, cid: CID, dest: Path) -> None:
        await export(self.store, cid, dest)

    def cat(self, cid: CID) -> AsyncGenerator[bytes, None]:
        return cat(self.store, cid)

    async def ls(self, cid: CID) -> list[Entry]:
        return await ls(self.store, cid)

    def tar(self, cid: CID, name: str) -> AsyncGenerator[bytes, None]:
        return tar_chunks(self.store, cid, name)

    async def size(self, cid: CID) -> int:
        return await dag_size(self.store, cid)

    async def has(self, cid: CID) -> bool:
        return await self.store.has(cid)

    # -- housekeeping -------------------------------------------------------

    async def pins(self) -> list[Pin]:
        return await self.store.pin_ls()

    async def gc(self) -> GcResult:
        return await self.store.gc()

    async def stat(self) -> StoreStat:
        return await self.store.stat()


class _Arrivals:
    """`Blocks` that waits, for a block not here yet, until a fetch under
    way brings it (or fails, or ends without it)."""

    def __init__(self, store: Blockstore) -> None:
        self._store = store
        self._changed = trio.Event()
        self._ended = False
        self._error: Exception | None = None

    def arrived(self, _size: int) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def failed(self, error: Exception | None) -> None:
        """The fetch ended (`error` None: every block is here)."""
        self._ended, self._error = True, error
        self.arrived(0)

    async def has(self, cid: CID) -> bool:
        return await self._store.has(cid)

    async def put(self, cid: CID, data: bytes) -> None:
        await self._store.put(cid, data)

    async def get(self, cid: CID) -> bytes | None:
        while True:
            changed = self._changed
            block = await self._store.get(cid)
            if block is not None:
                return block
            if self._error is not None:
                raise self._error
            if self._ended:
                raise BlockNotFound(cid)
            await changed.wait()


class _OnDemand:
    """`Blocks` over the store that asks bitswap for what it lacks."""

    def __init__(
        self, store: Blockstore, bitswap: Bitswap, providers: list[str], timeout: float
    ) -> None:
        self._store, self._bitswap = store, bitswap
        self._providers, self._timeout = providers, timeout

    async def has(self, cid: CID) -> bool:
        return await self._store.has(cid)

    async def put(self, cid: CID, data: bytes) -> None:
        await self._store.put(cid, data)

    async def get(self, cid: CID) -> bytes | None:
        block = await self._store.get(cid)
        if block is None:
            block = await self._bitswap.get_block(
                cid,
                providers=self._providers or None,
                no_progress_timeout=self._timeout,
            )
        return block


def _links(cid: CID, block: bytes) -> list[CID]:
    try:
        return links_of(cid, block)
    except (InvalidBlock, ValueError) as exc:
        raise InvalidBlock(f"{cid}: cannot read its links: {exc}") from None
