"""The dashboard's files: who gets the page, with what headers, and when not."""

from __future__ import annotations

import pytest

from bacalao.api.app import ApiApp
from bacalao.web.files import load_files

from .asgi import call, frames, websocket
from .fakes import FakeBackend

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
TOKEN = "dashboard-token-0123456789"


async def test_a_browser_at_root_gets_the_page_and_other_clients_the_version(
    app: ApiApp,
) -> None:
    page = await call(app, "GET", "/", headers=BROWSER)
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/ui/app.js">' in page.body
    version = await call(app, "GET", "/")
    assert version.status == 200
    assert "GitVersion" in version.json()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
    ],
)
async def test_files_carry_their_type_an_etag_and_revalidation(
    app: ApiApp, name: str, content_type: str
) -> None:
    reply = await call(app, "GET", f"/ui/{name}")
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    assert reply.headers["cache-control"] == "no-cache"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in reply.headers["content-security-policy"]
    again = await call(
        app, "GET", f"/ui/{name}", headers={"If-None-Match": reply.headers["etag"]}
    )
    assert (again.status, again.body) == (304, b"")


async def test_every_module_the_page_imports_is_served(app: ApiApp) -> None:
    files = load_files()
    for name in files:
        if name.endswith(".js"):
            text = files[name].body.decode()
            for line in text.splitlines():
                if line.startswith("import ") and " from " in line:
                    target = line.rsplit('"./', 1)[1].split('"')[0]
                    assert target in files, f"{name} imports a missing {target}"


async def test_an_unknown_file_is_a_404(app: ApiApp) -> None:
    reply = await call(app, "GET", "/ui/nope.js")
    assert reply.status == 404
    assert "no file 'nope.js'" in reply.json()["Message"]


async def test_the_page_is_public_but_the_api_behind_it_is_not() -> None:
    guarded = ApiApp(FakeBackend(), tokens=[TOKEN])
    assert (await call(guarded, "GET", "/", headers=BROWSER)).status == 200
    assert (await call(guarded, "GET", "/ui/app.js")).status == 200
    assert (await call(guarded, "GET", "/")).status == 401
    jobs = "/api/v1/orchestrator/jobs"
    refused = await call(guarded, "GET", jobs, query=f"access_token={TOKEN}")
    assert refused.status == 401  # a query token is for WebSocket upgrades only


async def test_a_websocket_may_carry_the_token_in_its_query() -> None:
    guarded = ApiApp(FakeBackend(), tokens=[TOKEN])
    logs = "/api/v1/orchestrator/jobs/my-job/logs"
    refused = await websocket(guarded, logs, "access_token=wrong")
    assert refused[0]["type"] != "websocket.accept"
    accepted = await websocket(guarded, logs, f"tail=true&access_token={TOKEN}")
    assert accepted[0] == {"type": "websocket.accept"}
    assert "token" not in str(frames(accepted))


async def test_without_the_web_ui_root_is_the_version_for_everyone() -> None:
    plain = ApiApp(FakeBackend(), web_ui=False)
    root = await call(plain, "GET", "/", headers=BROWSER)
    assert "GitVersion" in root.json()
    assert (await call(plain, "GET", "/ui/app.js")).status == 404
