"""Blocks on disk, with recursive pins and garbage collection.

    ROOT/blocks/<shard>/<KEY>.data   one file per block (Kubo's flatfs layout:
                                     KEY is the base32 multihash, shard its
                                     next-to-last two characters)
    ROOT/tmp/                        writes in progress (emptied on open)
    ROOT/pins.db                     the pin set (SQLite)

ROOT is the node's `REPO/ipfs`. Blocks are keyed by multihash, so the v0
and v1 CIDs of the same bytes share one file. A write goes to a temp file
and is renamed into place, so a reader never sees half a block and a
failed write (a full disk raises `StorageFull`) leaves nothing behind.
Files are not fsynced; instead every read checks the block against its
hash and drops one a crash left damaged, so it reads as missing.

Two sides: `put_block`/`get_block`/`has_block` block (for the importer's
worker thread); `has`/`get`/`put` implement `Blocks` on the trio loop,
and `put` (blocks from the network) verifies the hash first. `gc()`
deletes every block not reachable from a pin; it waits for writers that
hold the store (`add`, `hold`, `holding`) so a DAG being written is not
collected before it is pinned.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import itertools
import os
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import trio

from .cid import CID
from .dag import reachable
from .exceptions import BlockNotFound, BlockstoreError, InvalidBlock, StorageFull
from .importer import Imported, ImportOptions, import_path
from .pins import Pin, Pins

__all__ = ["Blockstore", "GcResult", "StoreStat"]


@dataclass(frozen=True, slots=True)
class StoreStat:
    """How much the store holds."""

    blocks: int
    bytes: int


@dataclass(frozen=True, slots=True)
class GcResult:
    """What a garbage collection removed."""

    blocks: int
    bytes: int


class Blockstore:
    """Blocks as files under `root`, pins in `root/pins.db`; see the module."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._blocks = self.root / "blocks"
        self._tmp = self.root / "tmp"
        try:
            self._blocks.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp.mkdir()
        except OSError as exc:
            raise self._error(exc, "creating the store") from exc
        self.pins = Pins(self.root / "pins.db")
        self._guard = _GcGuard()
        self._names = itertools.count()

    @classmethod
    async def open(cls, root: Path) -> Blockstore:
        """Open (creating if needed) the store at `root`, off the trio loop."""
        return await trio.to_thread.run_sync(cls, root)

    def close(self) -> None:
        self.pins.close()

    # -- the blocking side (worker threads) -----------------------------------

    def put_block(self, cid: CID, data: bytes) -> None:
        """Store `data` as `cid` (trusted: the caller made it)."""
        path = self._path(cid.multihash)
        if path.exists():
            return
        tmp = self._tmp / f"{os.getpid()}-{next(self._names)}"
        try:
            path.parent.mkdir(exist_ok=True)
            _write_new_file(tmp, data)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise self._error(exc, f"writing block {cid}") from exc

    def get_block(self, cid: CID) -> bytes | None:
        """The block's bytes, or None if it is missing (or was damaged)."""
        path = self._path(cid.multihash)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(exc, f"reading block {cid}") from exc
        if not cid.verify(data):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return data

    def has_block(self, cid: CID) -> bool:
        return self._path(cid.multihash).exists()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep gc away while a DAG is written and pinned (blocking)."""
        self._guard.enter()
        try:
            yield
        finally:
            self._guard.leave()

    # -- Blocks, on the trio loop -----------------------------------------

    async def has(self, cid: CID) -> bool:
        return await trio.to_thread.run_sync(self.has_block, cid)

    async def get(self, cid: CID) -> bytes | None:
        return await trio.to_thread.run_sync(self.get_block, cid)

    async def put(self, cid: CID, data: bytes) -> None:
        """Store a block from elsewhere; `InvalidBlock` if it is not `cid`."""
        await trio.to_thread.run_sync(self._put_verified, cid, data)

    def _put_verified(self, cid: CID, data: bytes) -> None:
        if not cid.verify(data):
            raise InvalidBlock(f"block does not hash to {cid}")
        self.put_block(cid, data)

    @contextlib.asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        """`hold` for trio code (waits for a running gc in a thread)."""
        await trio.to_thread.run_sync(self._guard.enter)
        try:
            yield
        finally:
            self._guard.leave()

    # -- adding, pins, gc, stat -------------------------------------------

    async def add(
        self,
        path: Path,
        options: ImportOptions | None = None,
        *,
        pin: bool = True,
        name: str = "",
    ) -> Imported:
        """Import `path` into this store and pin its root (unless `pin=False`)."""

        def run() -> Imported:
            with self.hold():
                imported = import_path(
                    path, self, options, check=trio.from_thread.check_cancelled
                )
                if pin:
                    self.pins.add(imported.cid, name)
                return imported

        return await trio.to_thread.run_sync(run)

    async def pin_add(self, cid: CID, name: str = "") -> None:
        """Pin `cid` recursively; `BlockNotFound` if its root is not held."""

        def run() -> None:
            if not self.has_block(cid):
                raise BlockNotFound(cid)
            self.pins.add(cid, name)

        await trio.to_thread.run_sync(run)

    async def pin_rm(self, cid: CID) -> bool:
        """Unpin `cid` (its blocks go at the next gc); False if not pinned."""
        return await trio.to_thread.run_sync(self.pins.remove, cid)

    async def pin_ls(self) -> list[Pin]:
        return await trio.to_thread.run_sync(self.pins.list)

    async def gc(self) -> GcResult:
        """Delete every block no pin reaches; say how many and how big."""
        return await trio.to_thread.run_sync(self._gc)

    async def stat(self) -> StoreStat:
        def run() -> StoreStat:
            sizes = [size for _path, _mh, size in self._scan()]
            return StoreStat(len(sizes), sum(sizes))

        return await trio.to_thread.run_sync(run)

    def _gc(self) -> GcResult:
        with self._guard.collecting():
            keep = reachable((pin.cid for pin in self.pins.list()), self.get_block)
            count = freed = 0
            for path, multihash, size in self._scan():
                if multihash not in keep:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        count, freed = count + 1, freed + size
            return GcResult(count, freed)

    # -- files --------------------------------------------------------------

    def _path(self, multihash: bytes) -> Path:
        key = base64.b32encode(multihash).decode().rstrip("=")
        return self._blocks / key[-3:-1] / f"{key}.data"

    def _scan(self) -> Iterator[tuple[Path, bytes, int]]:
        """(path, multihash, size) of every block file."""
        for shard in os.scandir(self._blocks):
            if not shard.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(shard.path):
                multihash = _multihash_of(entry.name)
                if multihash is not None:
                    yield Path(entry.path), multihash, entry.stat().st_size

    def _error(self, exc: OSError, doing: str) -> BlockstoreError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return StorageFull(
                f"no space left on the disk holding {self.root} while {doing}; "
                "free space there, or unpin old data and run gc"
            )
        return BlockstoreError(f"blockstore {self.root}: {doing}: {exc}")


def _write_new_file(path: Path, data: bytes) -> None:
    """Write `data` to a new file (the seam where a full disk shows up)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _multihash_of(filename: str) -> bytes | None:
    key, dot, ext = filename.partition(".")
    if ext != "data" or not dot:
        return None
    try:
        return base64.b32decode(key + "=" * (-len(key) % 8))
    except ValueError:
        return None


class _GcGuard:
    """Writers share the store; gc has it alone, after they finish."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._writers = 0
        self._collecting = False

    def enter(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: not self._collecting)
            self._writers += 1

    def leave(self) -> None:
        with self._cond:
            self._writers -= 1
            self._cond.notify_all()

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._collecting and not self._writers)
            self._collecting = True
        try:
            yield
        finally:
            with self._cond:
                self._collecting = False
                self._cond.notify_all()
