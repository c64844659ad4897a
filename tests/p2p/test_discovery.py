"""Finding peers: stable identities and bootstrap peers that come up late."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio

from bacalao.p2p.discovery import PEER_EXCHANGE, PeerExchangeRequest, PeerRecord
from bacalao.p2p.identity import load_or_create_key, peer_id_of
from bacalao.ports import free_port

from .conftest import WAIT, StartSwarm, wait_until


async def test_stopped_node_disconnects_from_its_peers(
    start_swarm: StartSwarm,
) -> None:
    """Stopping a swarm (cancelling it) closes its connections, so its peers
    see it leave instead of holding a dead connection."""
    hub = await start_swarm()
    node = await start_swarm(bootstrap=hub.swarm.p2p_addrs)
    gone = node.swarm.peer_id
    await wait_until(lambda: gone in hub.swarm.connected_peers())
    await node.stop()
    await wait_until(lambda: gone not in hub.swarm.connected_peers(), timeout=5)


async def test_restarted_node_keeps_its_peer_id_and_rejoins(
    start_swarm: StartSwarm, tmp_path: Path
) -> None:
    repo = tmp_path / "restarting"
    hub = await start_swarm()
    node = await start_swarm(repo=repo, bootstrap=hub.swarm.p2p_addrs)
    first_id = node.swarm.peer_id
    await wait_until(lambda: first_id in hub.swarm.connected_peers())
    await node.stop()

    again = await start_swarm(repo=repo, bootstrap=hub.swarm.p2p_addrs)
    assert again.swarm.peer_id == first_id
    await wait_until(lambda: hub.swarm.peer_id in again.swarm.connected_peers())
    request = PeerExchangeRequest(Self=PeerRecord(ID=first_id, Addrs=again.swarm.addrs))
    with trio.fail_after(WAIT):
        answer = await again.swarm.rpc.call(hub.swarm.peer_id, PEER_EXCHANGE, request)
    assert hub.swarm.peer_id in {p.ID for p in answer.Peers}


async def test_node_keeps_dialing_a_bootstrap_peer_until_it_is_up(
    start_swarm: StartSwarm, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bacalao.p2p.discovery")
    repo = tmp_path / "late-bootstrap"
    port = free_port()
    late_id = peer_id_of(load_or_create_key(repo))
    address = f"/ip4/127.0.0.1/tcp/{port}/p2p/{late_id}"

    node = await start_swarm(bootstrap=[address])

    def failed_dials() -> int:
        return sum(
            r.getMessage().startswith(f"dial {late_id} failed") for r in caplog.records
        )

    await wait_until(lambda: failed_dials() >= 2)  # tried, and tried again
    assert late_id not in node.swarm.connected_peers()

    late = await start_swarm(repo=repo, port=port)
    assert late.swarm.peer_id == late_id
    # the retry delay is capped at 10s, far less once failures are recent
    await wait_until(lambda: late_id in node.swarm.connected_peers(), timeout=8)
    await wait_until(lambda: node.swarm.peer_id in late.swarm.connected_peers())


async def test_bad_bootstrap_addresses_do_not_stop_the_node(
    start_swarm: StartSwarm,
) -> None:
    hub = await start_swarm()
    node = await start_swarm(bootstrap=["not a multiaddr", *hub.swarm.p2p_addrs])
    await wait_until(lambda: hub.swarm.peer_id in node.swarm.connected_peers())


async def test_own_address_as_bootstrap_is_ignored(
    start_swarm: StartSwarm, tmp_path: Path
) -> None:
    repo = tmp_path / "self"
    port = free_port()
    me = peer_id_of(load_or_create_key(repo))
    hub = await start_swarm()
    node = await start_swarm(
        repo=repo,
        port=port,
        bootstrap=[f"/ip4/127.0.0.1/tcp/{port}/p2p/{me}", *hub.swarm.p2p_addrs],
    )
    await wait_until(lambda: hub.swarm.peer_id in node.swarm.connected_peers())
    assert me not in node.swarm.connected_peers()
