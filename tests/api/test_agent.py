"""Agent endpoints, legacy paths and the router's own answers."""

from __future__ import annotations

from typing import Any

from bacalao.models.node import BuildVersionInfo, NodeInfo, NodeState

from .asgi import call, error_of
from .conftest import Api
from .fakes import NODE_ID, FakeBackend


async def test_alive(api: Api) -> None:
    reply = await api("GET", "/api/v1/agent/alive")
    assert (reply.status, reply.json()) == (200, {"Status": "OK"})
    assert reply.headers["content-type"] == "application/json"


async def test_version_is_flat_build_info(api: Api, backend: FakeBackend) -> None:
    reply = await api("GET", "/api/v1/agent/version")
    body = reply.json()
    assert set(body) == {
        "Major",
        "Minor",
        "GitVersion",
        "GitCommit",
        "BuildDate",
        "GOOS",
        "GOARCH",
    }
    assert BuildVersionInfo.model_validate(body) == backend.version()
    assert body["BuildDate"] == "2026-01-02T00:00:00Z"


async def test_agent_node_is_flat_node_info(api: Api) -> None:
    body = (await api("GET", "/api/v1/agent/node")).json()
    assert body["NodeID"] == NODE_ID
    assert NodeInfo.model_validate(body).NodeID == NODE_ID


async def test_debug_serialises_anything(api: Api) -> None:
    body = (await api("GET", "/api/v1/agent/debug")).json()
    assert body == {"fake": {"jobs": 0, "when": "2026-01-01T00:00:00Z"}}


async def test_legacy_text_endpoints(api: Api) -> None:
    reply = await api("GET", "/api/v1/id")
    assert (reply.status, reply.body) == (200, NODE_ID.encode())
    assert reply.headers["content-type"].startswith("text/plain")
    reply = await api("GET", "/api/v1/livez")
    assert (reply.status, reply.body) == (200, b"OK")


async def test_legacy_version_get_and_post(api: Api, backend: FakeBackend) -> None:
    for method, body in (("GET", b""), ("POST", b'{"client_id": "abc"}')):
        reply = await api(method, "/api/v1/version", body=body)
        assert reply.status == 200
        assert reply.json()["build_version_info"]["GitVersion"] == "v0.1.0"
    reply = await api("POST", "/api/v1/version", body=b"{oops")
    assert error_of(reply)["Status"] == 400


async def test_legacy_healthz_and_node_info(api: Api) -> None:
    health = (await api("GET", "/api/v1/healthz")).json()
    assert set(health["FreeSpace"]) == {"tmp", "root"}
    assert health["FreeSpace"]["root"]["All"] > 0
    state = NodeState.model_validate((await api("GET", "/api/v1/node_info")).json())
    assert state.Info.NodeID == NODE_ID


async def test_node_info_without_own_node_in_list(
    api: Api, backend: FakeBackend
) -> None:
    own = backend.nodes[0]
    backend.nodes = []
    backend.node_info = lambda: own.Info  # type: ignore[method-assign]
    state = NodeState.model_validate((await api("GET", "/api/v1/node_info")).json())
    assert state.Info.NodeID == NODE_ID


async def test_root_is_version(api: Api) -> None:
    assert (await api("GET", "/")).json()["GitVersion"] == "v0.1.0"


async def test_unknown_route_is_bacalhau_404(api: Api) -> None:
    reply = await api("GET", "/api/v1/no/such/thing")
    body = error_of(reply)
    assert body["Status"] == 404
    assert body["Code"] == "NotFound"
    assert body["Component"] == "APIServer"
    assert body["Message"] == "The requested resource/URL was not found."
    assert "cli_usage" in body["Details"]
    assert body["Hint"]


async def test_wrong_method_is_405_with_allow(api: Api) -> None:
    reply = await api("DELETE", "/api/v1/agent/alive")
    assert error_of(reply)["Code"] == "MethodNotAllowed"
    assert reply.headers["allow"] == "GET"


async def test_head_has_status_and_no_body(api: Api) -> None:
    reply = await api("HEAD", "/api/v1/agent/alive")
    assert (reply.status, reply.body) == (200, b"")
    reply = await api("HEAD", "/api/v1/nope")
    assert (reply.status, reply.body) == (404, b"")


async def test_trailing_slash_is_the_same_route(api: Api) -> None:
    assert (await api("GET", "/api/v1/agent/alive/")).status == 200


async def test_request_id_comes_back(api: Api) -> None:
    reply = await api("GET", "/api/v1/nope", headers={"X-Request-Id": "req-42"})
    assert error_of(reply)["RequestID"] == "req-42"
    assert reply.headers["x-request-id"] == "req-42"
    other = await api("GET", "/api/v1/nope")
    assert other.headers["x-request-id"] == error_of(other)["RequestID"] != ""


async def test_unexpected_error_is_500_without_traceback(
    api: Api, backend: FakeBackend, caplog: object
) -> None:
    def explode() -> dict[str, object]:
        raise RuntimeError("secret detail")

    backend.debug_info = explode  # type: ignore[method-assign]
    reply = await api("GET", "/api/v1/agent/debug")
    body = error_of(reply)
    assert body["Status"] == 500
    assert body["Message"] == "Internal server error"
    assert body["Code"] == "InternalError"
    assert b"secret" not in reply.body
    assert b"Traceback" not in reply.body


async def test_websocket_to_unknown_route_is_closed(app: object) -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/api/v1/nope",
        "headers": [],
        "query_string": b"",
    }
    await app(scope, receive, send)  # type: ignore[operator]
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_lifespan_startup_and_shutdown(app: object) -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return incoming.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)  # type: ignore[operator]
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_call_helper_sends_chunks(app: object) -> None:
    reply = await call(
        app, "POST", "/api/v1/version", body=b'{"client_id": "x"}', chunk=3
    )
    assert reply.status == 200


async def test_websocket_route_gets_scope_and_params(backend: FakeBackend) -> None:
    from bacalao.api.app import ApiApp
    from bacalao.api.router import websocket_route

    seen: list[dict[str, str]] = []

    async def logs(
        scope: object, receive: object, send: Any, params: dict[str, str]
    ) -> None:
        seen.append(params)
        await send({"type": "websocket.accept"})

    app = ApiApp(backend, routes=[websocket_route("/test/ws/{id}", logs)])
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/test/ws/j-1"}
    await app(scope, None, send)  # type: ignore[arg-type]
    assert seen == [{"id": "j-1"}]
    assert sent == [{"type": "websocket.accept"}]
    reply = await call(app, "GET", "/test/ws/j-1")
    assert reply.status == 404


async def test_agent_config_masks_secrets(api: Api, backend: FakeBackend) -> None:
    reply = await api("GET", "/api/v1/agent/config")
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"config"}  # Bacalhau's GetAgentConfigResponse shape
    config = body["config"]
    assert config["api_tokens"] == ["********", "********"]
    assert config["swarm_key"] == "********"
    assert config["labels"] == {"region": "eu"}
    assert config["api_port"] == backend.config.api_port
    assert set(config) == set(backend.config.model_dump())
    text = reply.body.decode()
    for secret in (*backend.config.api_tokens, "ab" * 32):
        assert secret not in text
