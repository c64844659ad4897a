"""GET /api/v1/orchestrator/nodes and /nodes/{id}."""

from __future__ import annotations

import pytest

from bacalao.models.api import GetNodeResponse, ListNodesResponse
from bacalao.models.node import ConnectionState

from .asgi import error_of
from .conftest import Api
from .fakes import FakeBackend, make_node

NODES = "/api/v1/orchestrator/nodes"


@pytest.fixture
def three(backend: FakeBackend) -> FakeBackend:
    backend.nodes = [
        make_node("n-bbb", labels={"zone": "eu"}, cpu=1.0),
        make_node(
            "n-aaa", labels={"zone": "us", "gpu": "1"}, cpu=8.0, Membership="PENDING"
        ),
        make_node(
            "n-ccc",
            labels={"zone": "eu"},
            cpu=4.0,
            ConnectionState=ConnectionState(Status="DISCONNECTED"),
        ),
    ]
    return backend


async def node_ids(api: Api, query: str = "") -> list[str]:
    reply = await api("GET", NODES, query=query)
    assert reply.status == 200, reply.body
    return [n.Info.NodeID for n in ListNodesResponse.model_validate(reply.json()).Nodes]


async def test_list_sorted_by_id(api: Api, three: FakeBackend) -> None:
    assert await node_ids(api) == ["n-aaa", "n-bbb", "n-ccc"]
    assert await node_ids(api, "reverse=true") == ["n-ccc", "n-bbb", "n-aaa"]


async def test_available_cpu_sorts_descending(api: Api, three: FakeBackend) -> None:
    assert await node_ids(api, "order_by=available_cpu") == ["n-aaa", "n-ccc", "n-bbb"]
    assert await node_ids(api, "order_by=available_cpu&reverse=1") == [
        "n-bbb",
        "n-ccc",
        "n-aaa",
    ]


async def test_filters(api: Api, three: FakeBackend) -> None:
    assert await node_ids(api, "filter-approval=pending") == ["n-aaa"]
    assert await node_ids(api, "filter-status=connected") == ["n-aaa", "n-bbb"]
    assert await node_ids(api, "labels=zone%3Deu") == ["n-bbb", "n-ccc"]
    assert await node_ids(api, "labels=gpu") == ["n-aaa"]
    assert await node_ids(api, "labels=!gpu,zone!%3Dus") == ["n-bbb", "n-ccc"]


async def test_limit_and_token(api: Api, three: FakeBackend) -> None:
    reply = await api("GET", NODES, query="limit=2")
    first = ListNodesResponse.model_validate(reply.json())
    assert [n.Info.NodeID for n in first.Nodes] == ["n-aaa", "n-bbb"]
    assert await node_ids(api, f"next_token={first.NextToken}") == ["n-ccc"]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("order_by=shoe_size", "invalid order_by"),
        ("limit=many", "'limit'"),
        ("labels=(", "'labels'"),
    ],
)
async def test_bad_params(api: Api, query: str, text: str) -> None:
    body = error_of(await api("GET", NODES, query=query))
    assert body["Status"] == 400
    assert text in body["Message"]


async def test_get_by_prefix(api: Api, three: FakeBackend) -> None:
    body = GetNodeResponse.model_validate((await api("GET", f"{NODES}/n-a")).json())
    assert body.Node.Info.NodeID == "n-aaa"
    assert body.Node.Membership == "PENDING"


async def test_get_exact_id_wins_over_prefix(api: Api, backend: FakeBackend) -> None:
    backend.nodes = [make_node("n-1"), make_node("n-12")]
    body = (await api("GET", f"{NODES}/n-1")).json()
    assert body["Node"]["Info"]["NodeID"] == "n-1"


async def test_get_unknown_and_ambiguous(api: Api, three: FakeBackend) -> None:
    body = error_of(await api("GET", f"{NODES}/n-zzz"))
    assert (body["Status"], body["Message"]) == (404, "node not found: n-zzz")
    body = error_of(await api("GET", f"{NODES}/n-"))
    assert (body["Status"], body["Code"]) == (400, "MultipleNodesFound")
