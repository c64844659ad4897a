"""`HTTP` networking: a task reaches its Domains through the proxy, nothing else.

"The outside" is a busybox httpd container on Docker's default bridge; the
task runs on its own internal network and can only ask the node's proxy.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trio

from bacalao.executors.config import DockerConfig
from bacalao.executors.docker import DockerExecutor
from bacalao.executors.docker_firewall import bridge_name, guard_rules
from bacalao.executors.docker_options import LABEL_EXECUTION, LABEL_MANAGED, LABEL_NODE
from tests.web_server import outside_web_server

from .support import TEST_IMAGE, MakeRequest, labelled

pytestmark = pytest.mark.docker

GUARDED = shutil.which("iptables") is not None and os.geteuid() == 0


@pytest.fixture
def web_server(docker_client: Any) -> Iterator[str]:
    """The address of an HTTP server outside the task's network."""
    with outside_web_server(docker_client, TEST_IMAGE) as address:
        yield address


@pytest.fixture
async def http_executor(docker_client: Any) -> AsyncIterator[DockerExecutor]:
    node = "test-" + uuid.uuid4().hex[:8]
    executor = DockerExecutor(DockerConfig(http_private=True), node_id=node)
    yield executor
    await executor.cleanup()
    await executor.aclose()


def probe(ip: str, host_port: int) -> dict[str, Any]:
    """A task that tries its domain, another one, going around the proxy, the host.

    (busybox's `wget -T` crashes in this build: `timeout` bounds it instead.)
    """
    proxy_host = "${http_proxy#http://}"
    script = f"""
        n=0; until wget -q -O- http://{ip}/hello.txt; do
            n=$((n+1)); [ $n -gt 20 ] && break; sleep 0.1   # the server starting
        done; echo "allowed: $?"
        wget -q -O- http://example.org/ ; echo "other: $?"
        timeout 1 wget -q -Y off -O- http://{ip}/hello.txt; echo "around: $?"
        host={proxy_host}; host=${{host%:*}}
        timeout 2 nc $host {host_port} </dev/null; echo "host: $?"
    """
    return {"Image": TEST_IMAGE, "Parameters": ["sh", "-c", script]}


async def test_http_network_reaches_only_its_domains(
    http_executor: DockerExecutor,
    make_request: MakeRequest,
    web_server: str,
    docker_client: Any,
):
    network = {"Type": "HTTP", "Domains": [web_server]}
    async with trio.open_nursery() as nursery:
        # a service of this machine, open on all interfaces
        listeners = await nursery.start(trio.serve_tcp, close_at_once, 0)
        port = listeners[0].socket.getsockname()[1]
        request = make_request("docker", probe(web_server, port), Network=network)
        with trio.fail_after(30):
            result = await http_executor.run(request)
        nursery.cancel_scope.cancel()
    assert result.Stdout.splitlines() == [
        "hello from outside",
        "allowed: 0",
        "other: 1",
        "around: 143",
        "host: 1" if GUARDED else "host: 0",  # refused / reached
    ]
    assert "403 Forbidden (example.org is not in the job's Network.Domains)" in (
        result.STDERR
    )
    # the task's network and its container went with the execution
    assert labelled(docker_client, LABEL_EXECUTION, request.execution_id) == []
    networks = docker_client.networks.list(
        filters={"label": f"{LABEL_EXECUTION}={request.execution_id}"}
    )
    assert networks == []


async def close_at_once(stream: trio.SocketStream) -> None:
    await stream.aclose()


async def test_private_addresses_need_the_operators_consent(
    docker_executor: DockerExecutor, make_request: MakeRequest, web_server: str
):
    script = f"wget -q -O- http://{web_server}/hello.txt"
    params = {"Image": TEST_IMAGE, "Parameters": ["sh", "-c", script]}
    network = {"Type": "HTTP", "Domains": [web_server]}
    request = make_request("docker", params, Network=network)
    with trio.fail_after(30):
        result = await docker_executor.run(request)
    assert result.ExitCode == 1
    assert "403 Forbidden" in result.STDERR
    assert "private address this node does not let tasks reach" in result.STDERR


@pytest.mark.skipif(not GUARDED, reason="needs iptables and root")
async def test_cleanup_removes_leftover_networks_and_rules(
    docker_executor: DockerExecutor, docker_client: Any
):
    node = docker_executor._node_id
    network = docker_client.networks.create(
        f"bacalao-leftover-{node}",
        internal=True,
        labels={LABEL_MANAGED: "true", LABEL_NODE: node},
    )
    for rule in guard_rules(bridge_name(network.id), 4000, node):  # then it crashed
        await trio.run_process(["iptables", "-I", "INPUT", *rule])
    assert node in await input_rules()
    with trio.fail_after(15):
        await docker_executor.cleanup()
    assert docker_client.networks.list(filters={"label": f"{LABEL_NODE}={node}"}) == []
    assert node not in await input_rules()


async def input_rules() -> str:
    listing = await trio.run_process(["iptables", "-S", "INPUT"], capture_stdout=True)
    return listing.stdout.decode()
