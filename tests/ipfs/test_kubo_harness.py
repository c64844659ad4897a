"""The Kubo harness: a real Kubo that adds, serves and fetches on loopback only."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import trio

from .conftest import KuboAdd, StartKubo
from .kubo import Kubo, loopback_config

HELLO_V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"


def _socket_addresses(pid: int) -> list[tuple[str, str]]:
    """(local, remote) IP of every TCP/UDP socket the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            cols = line.split()
            if cols[9] in inodes:
                found.append((_ip(cols[1]), _ip(cols[2])))
    return found


def _ip(field: str) -> str:
    raw = bytes.fromhex(field.split(":")[0])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def test_config_reaches_loopback_only() -> None:
    config = loopback_config({"Bootstrap": ["/dnsaddr/bootstrap.libp2p.io"]}, 4123)
    assert config["Bootstrap"] == []
    assert config["Addresses"]["Swarm"] == ["/ip4/127.0.0.1/tcp/4123"]
    assert config["Routing"]["Type"] == "none"
    assert config["Discovery"]["MDNS"]["Enabled"] is False
    assert config["Swarm"]["DisableNatPortMap"] is True


def test_kubo_add_gives_the_documented_cid(kubo_add: KuboAdd, tmp_path: Path) -> None:
    path = tmp_path / "hello"
    path.write_bytes(b"hello\n")
    assert kubo_add(path) == HELLO_V0


def test_node_listens_and_talks_on_loopback_only(kubo: Kubo) -> None:
    assert kubo.peer_id
    assert kubo.multiaddr.startswith("/ip4/127.0.0.1/tcp/")
    sockets = _socket_addresses(kubo.pid)
    assert sockets, "Kubo holds no socket at all"
    for local, remote in sockets:
        assert ipaddress.ip_address(local).is_loopback, sockets
        assert remote in ("0.0.0.0", "::") or ipaddress.ip_address(remote).is_loopback


async def test_two_nodes_connect_and_fetch_over_bitswap(
    start_kubo: StartKubo, tmp_path: Path
) -> None:
    a, b = start_kubo(), start_kubo()
    source = tmp_path / "data"
    source.write_bytes(os.urandom(300_000))
    cid = a.add(source)
    with trio.fail_after(60):
        await trio.to_thread.run_sync(b.connect, a.multiaddr)
        assert a.peer_id in b.peers()
        await trio.to_thread.run_sync(b.download, cid, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == source.read_bytes()
