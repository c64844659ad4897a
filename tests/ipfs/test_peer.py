"""The node's IPFS peer: add on one node, fetch the whole DAG on another."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
import trio

from bacalao.ipfs.cid import CID
from bacalao.ipfs.exceptions import BlockNotFound
from bacalao.ipfs.peer import IpfsPeer

from ..p2p.conftest import WAIT, StartSwarm, start_swarm

__all__ = ["start_swarm"]


async def make_peer(
    nursery: trio.Nursery, start: StartSwarm, repo: Path, **kwargs: object
) -> IpfsPeer:
    running = await start(repo=repo)
    peer = IpfsPeer(repo, running.swarm, **kwargs)  # type: ignore[arg-type]
    with trio.fail_after(WAIT):
        await nursery.start(peer.run)
    return peer


def tree(root: Path) -> Path:
    (root / "outputs" / "sub").mkdir(parents=True)
    (root / "stdout").write_bytes(b"hello\n")
    (root / "outputs" / "sub" / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    return root


def files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


async def test_a_tree_added_on_one_node_is_fetched_whole_by_another(
    nursery: trio.Nursery, start_swarm: StartSwarm, tmp_path: Path
) -> None:
    a = await make_peer(nursery, start_swarm, tmp_path / "a")
    b = await make_peer(nursery, start_swarm, tmp_path / "b")
    source = tree(tmp_path / "results")
    imported = await a.add(source)
    assert [p.cid for p in await a.pins()] == [imported.cid]

    moved: list[int] = []
    with trio.fail_after(WAIT):
        await b.fetch(imported.cid, providers=a._swarm.p2p_addrs, progress=moved.append)
    await b.export(imported.cid, tmp_path / "out")
    assert files(tmp_path / "out") == files(source)
    assert sum(moved) >= 3 * 1024 * 1024
    assert [p.cid for p in await b.pins()] == [imported.cid]
    assert await b.size(imported.cid) >= 3 * 1024 * 1024


async def test_a_cid_nobody_has_fails_naming_it(
    nursery: trio.Nursery, start_swarm: StartSwarm, tmp_path: Path
) -> None:
    peer = await make_peer(
        nursery, start_swarm, tmp_path / "a", no_progress_timeout=0.5
    )
    missing = CID.of(b"nobody holds this")
    with trio.fail_after(WAIT), pytest.raises(BlockNotFound, match=str(missing)):
        await peer.fetch(missing)
    assert await peer.pins() == []


async def test_gc_keeps_what_is_pinned(
    nursery: trio.Nursery, start_swarm: StartSwarm, tmp_path: Path
) -> None:
    peer = await make_peer(nursery, start_swarm, tmp_path / "a")
    kept = await peer.add(tree(tmp_path / "kept"))
    (tmp_path / "loose.txt").write_bytes(b"not pinned")
    loose = await peer.add(tmp_path / "loose.txt", pin=False)
    result = await peer.gc()
    assert result.blocks == 1
    assert not await peer.has(loose.cid)
    assert await peer.has(kept.cid)


async def test_tar_streams_while_the_dag_arrives(
    nursery: trio.Nursery, start_swarm: StartSwarm, tmp_path: Path
) -> None:
    a = await make_peer(nursery, start_swarm, tmp_path / "a")
    b = await make_peer(nursery, start_swarm, tmp_path / "b")
    source = tree(tmp_path / "results")
    imported = await a.add(source)
    archive = bytearray()

    async def write(chunk: bytes) -> None:
        archive.extend(chunk)

    with trio.fail_after(WAIT):
        await b.stream_tar(imported.cid, "r", write, providers=a._swarm.p2p_addrs)
    with tarfile.open(fileobj=io.BytesIO(bytes(archive))) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    assert files(tmp_path / "x" / "r") == files(source)


async def test_tar_of_a_cid_nobody_has_fails_before_any_byte(
    nursery: trio.Nursery, start_swarm: StartSwarm, tmp_path: Path
) -> None:
    peer = await make_peer(
        nursery, start_swarm, tmp_path / "a", no_progress_timeout=0.5
    )
    written: list[bytes] = []

    async def write(chunk: bytes) -> None:
        written.append(chunk)

    missing = CID.of(b"nobody")
    with trio.fail_after(WAIT), pytest.raises(BlockNotFound):
        await peer.stream_tar(missing, "x", write)
    assert written == []
