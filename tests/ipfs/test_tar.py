"""A DAG streamed as tar unpacks to the tree that was added."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from bacalao.ipfs.blocks import MemoryBlocks
from bacalao.ipfs.importer import ImportOptions, add_path
from bacalao.ipfs.tar import dag_size, tar_chunks


async def test_directory_tree_round_trips_through_tar(tmp_path: Path) -> None:
    tree = tmp_path / "results"
    (tree / "outputs" / "deep").mkdir(parents=True)
    (tree / "stdout").write_bytes(b"hello\n")
    (tree / "exitCode").write_text("0")
    big = bytes(range(256)) * 4000  # several chunks, not a multiple of 512
    (tree / "outputs" / "deep" / "data.bin").write_bytes(big)
    (tree / "outputs" / "link").symlink_to("deep/data.bin")
    blocks = MemoryBlocks()
    imported = await add_path(tree, blocks, ImportOptions(chunk_size=4096))

    archive = b"".join([chunk async for chunk in tar_chunks(blocks, imported.cid, "r")])

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = sorted(tar.getnames())
        assert names == sorted(
            [
                "r",
                "r/exitCode",
                "r/outputs",
                "r/outputs/deep",
                "r/outputs/deep/data.bin",
                "r/outputs/link",
                "r/stdout",
            ]
        )
        data = tar.extractfile("r/outputs/deep/data.bin")
        assert data is not None
        assert data.read() == big
        assert tar.getmember("r/outputs/link").linkname == "deep/data.bin"
    assert await dag_size(blocks, imported.cid) >= len(big) + 7


async def test_single_file_is_one_entry(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"x" * 1000)
    blocks = MemoryBlocks()
    imported = await add_path(path, blocks)
    archive = b"".join([c async for c in tar_chunks(blocks, imported.cid, "f.txt")])
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("f.txt")
        assert member is not None
        assert member.read() == b"x" * 1000
    assert await dag_size(blocks, imported.cid) == 1000


async def test_empty_name_puts_a_directorys_entries_at_the_top(tmp_path: Path) -> None:
    (tmp_path / "r" / "outputs").mkdir(parents=True)
    (tmp_path / "r" / "stdout").write_text("hi\n")
    (tmp_path / "r" / "outputs" / "x").write_text("x")
    blocks = MemoryBlocks()
    imported = await add_path(tmp_path / "r", blocks)
    archive = b"".join([c async for c in tar_chunks(blocks, imported.cid, "")])
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert sorted(tar.getnames()) == ["outputs", "outputs/x", "stdout"]
