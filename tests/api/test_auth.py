"""API bearer tokens: every route but the health check wants one."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from bacalao.api.app import ApiApp
from bacalao.api.auth import BearerTokens, bearer_token
from bacalao.api.errors import Unauthorized

from .asgi import call, error_of
from .fakes import FakeBackend

TOKEN = "s3cret-token-0123456789"
OTHER = "another-token-9876543210"


@pytest.fixture
def guarded() -> ApiApp:
    return ApiApp(FakeBackend(), tokens=[TOKEN, OTHER])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_health_check_needs_no_token(guarded: ApiApp) -> None:
    reply = await call(guarded, "GET", "/api/v1/agent/alive")
    assert (reply.status, reply.json()) == (200, {"Status": "OK"})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/agent/node"),
        ("GET", "/api/v1/agent/debug"),
        ("GET", "/api/v1/orchestrator/jobs"),
        ("PUT", "/api/v1/orchestrator/jobs"),
        ("GET", "/api/v1/livez"),
        ("GET", "/api/v1/local/results/e-1.tar.gz"),
        ("GET", "/no/such/route"),  # refused before routing: nothing leaks
        ("POST", "/api/v1/agent/alive"),  # only GET is the health check
    ],
)
async def test_everything_else_answers_401_without_a_token(
    guarded: ApiApp, method: str, path: str
) -> None:
    reply = await call(guarded, method, path, json={"Job": {}})
    assert reply.status == 401
    body = error_of(reply)
    assert body["Code"] == "Unauthorized"
    assert body["Message"] == "this node's API requires a token"
    assert "BACALAO_API_TOKEN" in body["Hint"]
    assert reply.headers["www-authenticate"].startswith("Bearer")


async def test_a_wrong_token_is_refused_and_a_right_one_accepted(
    guarded: ApiApp,
) -> None:
    wrong = await call(guarded, "GET", "/api/v1/agent/node", headers=bearer("nope"))
    assert wrong.status == 401
    assert error_of(wrong)["Message"] == "the API token was not accepted"
    for token in (TOKEN, OTHER):
        reply = await call(guarded, "GET", "/api/v1/agent/node", headers=bearer(token))
        assert reply.status == 200
    lower = {"authorization": f"bearer {TOKEN}"}
    assert (await call(guarded, "GET", "/api/v1/id", headers=lower)).status == 200


async def test_an_open_api_needs_nothing(app: ApiApp) -> None:
    assert (await call(app, "GET", "/api/v1/agent/node")).status == 200


async def upgrade(
    app: ApiApp, headers: dict[str, str]
) -> list[MutableMapping[str, Any]]:
    """A WebSocket upgrade to the logs route, as hypercorn hands it over."""
    sent: list[MutableMapping[str, Any]] = []
    incoming = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await trio.sleep_forever()
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    path = "/api/v1/orchestrator/jobs/j-1/logs"
    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "extensions": {"websocket.http.response": {}},
    }
    with trio.move_on_after(2):
        await app(scope, receive, send)
    return sent


async def test_websocket_upgrades_need_the_token_too(guarded: ApiApp) -> None:
    refused = await upgrade(guarded, {})
    assert refused[0]["type"] == "websocket.http.response.start"
    assert refused[0]["status"] == 401
    assert b"requires a token" in refused[1]["body"]
    allowed = await upgrade(guarded, bearer(TOKEN))
    assert allowed[0]["type"] != "websocket.http.response.start"


@given(st.text(max_size=60))
def test_only_a_configured_token_passes(header: str) -> None:
    tokens = BearerTokens([TOKEN])
    headers = {"authorization": header}
    if bearer_token(header) == TOKEN:
        tokens.check("GET", ("api", "v1", "agent", "node"), headers)
    else:
        with pytest.raises(Unauthorized):
            tokens.check("GET", ("api", "v1", "agent", "node"), headers)


@given(st.text(max_size=40))
def test_bearer_values_parse_back(token: str) -> None:
    parsed = bearer_token(f"Bearer {token}")
    assert parsed == (token.strip() or None)
