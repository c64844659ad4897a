"""The exporter gives back exactly what was added, and refuses what is unsafe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from bacalao.ipfs import dagpb, unixfs
from bacalao.ipfs.blocks import MemoryBlocks
from bacalao.ipfs.cid import CID
from bacalao.ipfs.dagpb import PBLink, PBNode
from bacalao.ipfs.exceptions import BlockNotFound, UnsafePath, UnsupportedNode
from bacalao.ipfs.exporter import cat, export, ls
from bacalao.ipfs.importer import ImportOptions, import_bytes, import_path
from bacalao.ipfs.unixfs import DataType, UnixFSData

from .test_importer_kubo import make_tree


async def read_all(blocks: MemoryBlocks, cid: CID) -> bytes:
    return b"".join([chunk async for chunk in cat(blocks, cid)])


def tree_contents(root: Path) -> dict[str, object]:
    """Every path under root with its bytes, link target or 'dir'."""
    found: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = path.read_bytes()
    return found


@settings(max_examples=150, deadline=None)
@given(
    chunk=st.integers(1, 9),
    links=st.integers(2, 4),
    extra=st.integers(-2, 2),
    multiple=st.integers(0, 40),
    version=st.sampled_from([0, 1]),
)
async def test_any_size_around_chunk_boundaries_round_trips(
    chunk: int, links: int, extra: int, multiple: int, version: int
) -> None:
    size = max(0, multiple * chunk + extra)
    data = bytes((i * 7 + size) % 251 for i in range(size))
    blocks = MemoryBlocks()
    options = ImportOptions(cid_version=version, chunk_size=chunk, max_links=links)
    imported = import_bytes(data, blocks, options)
    assert imported.size == size
    assert await read_all(blocks, imported.cid) == data


async def test_directory_tree_exports_byte_for_byte(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", hidden=True)
    blocks = MemoryBlocks()
    imported = import_path(tree, blocks, ImportOptions(include_hidden=True))
    await export(blocks, imported.cid, tmp_path / "out")
    assert tree_contents(tmp_path / "out") == tree_contents(tree)
    assert sorted(os.listdir(tmp_path)) == ["out", "tree"]  # no temp left


async def test_single_file_exports_to_a_file(tmp_path: Path) -> None:
    data = os.urandom(600_000)
    blocks = MemoryBlocks()
    imported = import_bytes(data, blocks, ImportOptions(cid_version=1))
    await export(blocks, imported.cid, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data


async def test_ls_names_sizes_and_types(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", hidden=False)
    blocks = MemoryBlocks()
    imported = import_path(tree, blocks)
    listing = {e.name: (e.size, e.type) for e in await ls(blocks, imported.cid)}
    assert listing == {
        "B.bin": (262_154, "file"),
        "a.txt": (6, "file"),
        "docs": (0, "directory"),
        "empty": (0, "directory"),
        "link": (0, "symlink"),
    }
    assert [e.name for e in await ls(blocks, imported.cid)] == sorted(listing)


async def test_cat_of_a_directory_says_so(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    blocks = MemoryBlocks()
    imported = import_path(tmp_path / "d", blocks)
    with pytest.raises(UnsupportedNode, match="is a directory, not a file"):
        await read_all(blocks, imported.cid)


def forged_directory(blocks: MemoryBlocks, name: str) -> CID:
    """A directory whose one entry is called `name`."""
    leaf = import_bytes(b"gotcha", blocks)
    data = unixfs.encode(UnixFSData(DataType.DIRECTORY))
    block = dagpb.encode(PBNode((PBLink(leaf.cid, name, leaf.tsize),), data))
    cid = CID.of(block)
    blocks.put_block(cid, block)
    return cid


@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "../../etc/passwd"])
async def test_unsafe_names_are_refused_and_nothing_is_left(
    tmp_path: Path, name: str
) -> None:
    blocks = MemoryBlocks()
    cid = forged_directory(blocks, name)
    with pytest.raises(UnsafePath, match="one path component"):
        await export(blocks, cid, tmp_path / "out")
    assert os.listdir(tmp_path) == []


async def test_missing_block_fails_and_removes_partial_output(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "tree", hidden=False)
    blocks = MemoryBlocks()
    imported = import_path(tree, blocks)
    b_bin = {e.name: e.cid for e in await ls(blocks, imported.cid)}["B.bin"]
    first_leaf = dagpb.decode(blocks.blocks[b_bin.multihash]).links[0].cid
    del blocks.blocks[first_leaf.multihash]
    with pytest.raises(BlockNotFound):
        await export(blocks, imported.cid, tmp_path / "out")
    assert sorted(os.listdir(tmp_path)) == ["tree"]


async def test_export_refuses_to_overwrite(tmp_path: Path) -> None:
    blocks = MemoryBlocks()
    imported = import_bytes(b"x", blocks)
    (tmp_path / "taken").write_text("mine")
    with pytest.raises(FileExistsError):
        await export(blocks, imported.cid, tmp_path / "taken")
    assert (tmp_path / "taken").read_text() == "mine"


async def test_cancelled_export_leaves_nothing(tmp_path: Path) -> None:
    class SlowBlocks(MemoryBlocks):
        async def get(self, cid: CID) -> bytes | None:
            await trio.sleep(0.01)
            return await super().get(cid)

    blocks = SlowBlocks()
    imported = import_bytes(os.urandom(50_000), blocks, ImportOptions(chunk_size=1000))
    with trio.move_on_after(0.1):
        await export(blocks, imported.cid, tmp_path / "out")
    assert os.listdir(tmp_path) == []
