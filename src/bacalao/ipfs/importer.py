"""Add files and directories as UnixFS DAGs, with the CIDs `ipfs add` gives.

    imported = await add_path(path, blockstore)             # Qm… (CIDv0)
    imported = await add_path(path, blockstore, ImportOptions(cid_version=1))

The defaults are Kubo's: CIDv0, sha2-256, 256 KiB chunks, balanced DAG
of at most 174 links per node, dag-pb leaves. `cid_version=1` turns on
raw leaves and CIDv1 for every node (`ipfs add --cid-version=1`).

A directory (`ipfs add -r`) becomes a UnixFS Directory node whose links
are sorted by name, each with the child's cumulative size as Tsize.
Entries whose name starts with `.` are skipped, at any depth, unless
`include_hidden` (Kubo's `--hidden`); the root itself is always added. A
symlink is added as a UnixFS Symlink node holding its target, never
followed; any other kind of file (fifo, socket, device) fails the add.
Kubo switches very large directories (over 256 KiB of links) to HAMT
shards; this importer does not, so their CIDs differ from Kubo's.

Files stream from disk one chunk at a time, and only the open path of
the tree is held, so memory stays flat whatever the size. `import_path`
blocks (run it in a worker thread); `add_path` does that for you, and
stops at the next chunk when its caller is cancelled.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import trio

from . import dagpb, unixfs
from .blocks import BlockSink
from .cid import CID
from .dagpb import PBLink, PBNode
from .exceptions import ImportFailed
from .layout import CHUNK_SIZE, MAX_LINKS, Built, FileBuilder, Layout
from .unixfs import DataType, UnixFSData

__all__ = ["ImportOptions", "Imported", "add_path", "import_bytes", "import_path"]


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How to add: the defaults are `ipfs add`'s."""

    cid_version: int = 0
    raw_leaves: bool | None = None  # None: raw leaves exactly when CIDv1
    chunk_size: int = CHUNK_SIZE
    max_links: int = MAX_LINKS
    include_hidden: bool = False

    def layout(self) -> Layout:
        raw = self.cid_version == 1 if self.raw_leaves is None else self.raw_leaves
        return Layout(self.cid_version, raw, self.chunk_size, self.max_links)


@dataclass(frozen=True, slots=True)
class Imported:
    """What an add produced: the root, its Tsize, file bytes, blocks written."""

    cid: CID
    tsize: int
    size: int
    blocks: int


@dataclass
class _Walk:
    """One import's settings and counters, shared down the directory tree."""

    sink: BlockSink
    options: ImportOptions
    layout: Layout
    check: Callable[[], None]
    blocks: int = field(default=0)


async def add_path(
    path: Path, sink: BlockSink, options: ImportOptions | None = None
) -> Imported:
    """`import_path` in a worker thread, cancellable between chunks."""
    return await trio.to_thread.run_sync(
        lambda: import_path(path, sink, options, check=trio.from_thread.check_cancelled)
    )


def import_path(
    path: Path,
    sink: BlockSink,
    options: ImportOptions | None = None,
    *,
    check: Callable[[], None] = lambda: None,
) -> Imported:
    """Add a file, directory or symlink (blocking). `check` runs per chunk."""
    options = options or ImportOptions()
    walk = _Walk(sink, options, options.layout(), check)
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise ImportFailed(f"cannot add {path}: {exc.strerror}") from exc
    root = _add_entry(walk, Path(path), info)
    return Imported(root.cid, root.tsize, root.filesize, walk.blocks)


def import_bytes(
    data: bytes, sink: BlockSink, options: ImportOptions | None = None
) -> Imported:
    """Add `data` as a file (blocking)."""
    options = options or ImportOptions()
    walk = _Walk(sink, options, options.layout(), lambda: None)
    size = options.chunk_size
    chunks = (data[i : i + size] for i in range(0, len(data), size))
    root = _build_file(walk, chunks)
    return Imported(root.cid, root.tsize, root.filesize, walk.blocks)


def _add_entry(walk: _Walk, path: Path, info: os.stat_result) -> Built:
    mode = info.st_mode
    try:
        if stat.S_ISLNK(mode):
            return _add_symlink(walk, os.readlink(path))
        if stat.S_ISDIR(mode):
            return _add_directory(walk, path)
        if stat.S_ISREG(mode):
            with open(path, "rb") as file:
                return _build_file(walk, _chunks(file, walk))
    except OSError as exc:
        raise ImportFailed(f"cannot add {path}: {exc.strerror}") from exc
    raise ImportFailed(f"cannot add {path}: not a file, directory or symlink")


def _chunks(file: BinaryIO, walk: _Walk) -> Iterator[bytes]:
    size = walk.layout.chunk_size
    while True:
        walk.check()
        chunk = _read_full(file, size)
        if not chunk:
            return
        yield chunk
        if len(chunk) < size:
            return


def _read_full(file: BinaryIO, size: int) -> bytes:
    chunk = file.read(size)
    while chunk and len(chunk) < size:
        more = file.read(size - len(chunk))
        if not more:
            break
        chunk += more
    return chunk


def _build_file(walk: _Walk, chunks: Iterator[bytes]) -> Built:
    builder = FileBuilder(chunks, walk.sink, walk.layout)
    root = builder.build()
    walk.blocks += builder.blocks
    return root


def _add_symlink(walk: _Walk, target: str) -> Built:
    data = UnixFSData(DataType.SYMLINK, data=os.fsencode(target))
    return _put_node(walk, PBNode(data=unixfs.encode(data)), 0)


def _add_directory(walk: _Walk, path: Path) -> Built:
    entries = []
    with os.scandir(path) as scan:
        for entry in scan:
            if walk.options.include_hidden or not entry.name.startswith("."):
                entries.append((_link_name(path, entry.name), entry))
    links = []
    below = size = 0
    for name, entry in sorted(entries, key=lambda pair: pair[0].encode()):
        child = _add_entry(walk, Path(entry.path), entry.stat(follow_symlinks=False))
        links.append(PBLink(child.cid, name, child.tsize))
        below += child.tsize
        size += child.filesize
    data = unixfs.encode(UnixFSData(DataType.DIRECTORY))
    built = _put_node(walk, PBNode(tuple(links), data), below)
    return Built(built.cid, built.tsize, size)


def _link_name(directory: Path, name: str) -> str:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ImportFailed(
            f"cannot add {directory}: an entry's name is not valid UTF-8 ({name!r})"
        ) from None
    return name


def _put_node(walk: _Walk, node: PBNode, below: int) -> Built:
    block = dagpb.encode(node)
    cid = walk.layout.dag_cid(block)
    walk.sink.put_block(cid, block)
    walk.blocks += 1
    return Built(cid, len(block) + below, 0)
