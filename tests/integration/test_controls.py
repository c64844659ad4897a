"""Whole nodes with operator controls: a private devstack, an allow-listed
node whose refusals show in its debug counters, and a node with API tokens
and TLS answering through its real API."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from bacalao.api.node_backend import NodeBackend
from bacalao.client.api import Client
from bacalao.client.errors import ApiError
from bacalao.p2p.discovery import PeerRecord
from bacalao.p2p.host import Swarm, SwarmConfig
from bacalao.p2p.swarm_key import new_swarm_key, parse_swarm_key
from tests.p2p.conftest import RunningSwarm, wait_until
from tests.p2p.test_private_network import count_dials
from tests.tls import self_signed

from .conftest import Devstack

KEY = parse_swarm_key(new_swarm_key().encode())
TOKEN = "integration-token-0123456789"


async def outsider(nursery: trio.Nursery, repo: Path) -> RunningSwarm:
    running = RunningSwarm(Swarm(repo, SwarmConfig(listen_host="127.0.0.1")))
    with trio.fail_after(15):
        await nursery.start(running.run)
    return running


def knock(swarm: Swarm, p2p_addrs: list[str], peer_id: str) -> None:
    """Make `swarm` try to connect to `peer_id` at its /p2p/ addresses."""
    assert swarm.discovery is not None
    addrs = [a.split("/p2p/")[0] for a in p2p_addrs]
    swarm.discovery.learn(PeerRecord(ID=peer_id, Addrs=addrs))


async def test_a_private_devstack_forms_and_keeps_outsiders_out(
    devstack: Devstack, nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with devstack(2, swarm_key=KEY, engines=["noop"]) as nodes:
        first = nodes[0]
        running = await outsider(nursery, tmp_path / "stranger")
        dials = count_dials(running)
        stranger = running.swarm
        knock(stranger, first.swarm_addrs, first.node_id)
        await wait_until(lambda: dials[0] >= 2)  # tried, failed, tried again
        assert not stranger.connected_peers()
        peers = first.node.swarm.connected_peers()
        assert peers == {nodes[1].node_id}


async def test_refused_peers_show_in_the_debug_counters(
    devstack: Devstack, nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with devstack(1, allow_peers=[], engines=["noop"]) as nodes:
        node = nodes[0]
        stranger = (await outsider(nursery, tmp_path / "stranger")).swarm
        knock(stranger, node.swarm_addrs, node.node_id)

        def refused() -> int:
            info = NodeBackend(node.node).debug_info()
            allow_list: dict[str, int] = info["allow_list"]  # type: ignore[assignment]
            return allow_list["refused_inbound"]

        await wait_until(lambda: refused() >= 1)
        info = await trio.to_thread.run_sync(Client.from_url(node.api_url).debug_info)
        assert info["allow_list"]["peers"] == 0
        assert stranger.peer_id in info["allow_list"]["refused_by_peer"]
        assert info["gossip"]["invalid_by_topic"] == {}


async def test_a_node_with_tokens_and_tls(devstack: Devstack, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    async with devstack(
        1, api_tokens=[TOKEN], tls_cert=cert, tls_key=key, engines=["noop"]
    ) as nodes:
        url = nodes[0].api_url
        assert url.startswith("https://127.0.0.1:")
        client = Client.from_url(url, cacert=str(cert), token=TOKEN)
        info = await trio.to_thread.run_sync(client.agent_node)
        assert info.ApiAddress == url
        anonymous = Client.from_url(url, cacert=str(cert))
        with pytest.raises(ApiError) as caught:
            await trio.to_thread.run_sync(anonymous.list_jobs)
        assert caught.value.status == 401
