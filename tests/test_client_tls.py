"""The client against a real https server that wants a token: a certificate
made in the test, trusted or not, and every way the client reaches a node
(requests, the logs WebSocket, downloads)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio

from bacalao.api.app import ApiOptions, serve_api
from bacalao.api.backend import LogLine
from bacalao.client.api import Client
from bacalao.client.errors import ApiError, ConnectError
from tests.api.fakes import FakeBackend
from tests.tls import self_signed

T = TypeVar("T")
TOKEN = "tls-test-token-0123456789"


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with trio.fail_after(10):
        return await trio.to_thread.run_sync(partial(fn, *args, **kwargs))


@dataclass
class Secure:
    backend: FakeBackend
    port: int
    cert: Path

    def client(self, **kwargs: Any) -> Client:
        kwargs.setdefault("tls", True)
        kwargs.setdefault("cacert", str(self.cert))
        kwargs.setdefault("token", TOKEN)
        return Client("127.0.0.1", self.port, timeout=5, **kwargs)


async def serve(nursery: trio.Nursery, options: ApiOptions) -> tuple[FakeBackend, int]:
    backend = FakeBackend(auto_run=True)
    with trio.fail_after(10):
        port = await nursery.start(
            partial(serve_api, options=options), backend, "127.0.0.1", 0
        )
    return backend, port


@pytest.fixture
async def secure(nursery: trio.Nursery, tmp_path: Path) -> Secure:
    cert, key = self_signed(tmp_path)
    options = ApiOptions(tokens=(TOKEN,), tls_cert=cert, tls_key=key)
    backend, port = await serve(nursery, options)
    return Secure(backend, port, cert)


async def test_a_trusted_certificate_and_the_token_get_answers(
    secure: Secure,
) -> None:
    info = await blocking(secure.client().agent_node)
    assert info.NodeID == secure.backend.node_id
    url = f"https://127.0.0.1:{secure.port}"
    by_url = Client.from_url(url, cacert=str(secure.cert), token=TOKEN)
    assert by_url.base_url == url
    assert (await blocking(by_url.version)).GitVersion == "v0.1.0"


async def test_an_untrusted_certificate_is_refused_with_the_fix(
    secure: Secure,
) -> None:
    with pytest.raises(ConnectError, match="is not trusted") as caught:
        await blocking(secure.client(cacert=None).agent_node)
    assert "--cacert" in caught.value.hint
    assert "--insecure" in caught.value.hint
    insecure = secure.client(cacert=None, insecure=True)
    assert (await blocking(insecure.alive)).Status == "OK"


async def test_plain_http_to_an_https_node_says_to_use_tls(secure: Secure) -> None:
    with pytest.raises(ConnectError) as caught:
        await blocking(secure.client(tls=False).agent_node)
    assert "--tls" in caught.value.hint


async def test_https_to_a_plain_node_says_to_drop_tls(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    _, port = await serve(nursery, ApiOptions())
    cert, _ = self_signed(tmp_path)
    client = Client("127.0.0.1", port, tls=True, cacert=str(cert), timeout=5)
    with pytest.raises(ConnectError, match="TLS with https://") as caught:
        await blocking(client.agent_node)
    assert "drop --tls" in caught.value.hint


async def test_a_missing_or_wrong_token_is_a_401(secure: Secure) -> None:
    for token in (None, "wrong-token-0123456789"):
        with pytest.raises(ApiError) as caught:
            await blocking(secure.client(token=token).agent_node)
        assert caught.value.status == 401
        assert caught.value.code == "Unauthorized"
    assert (await blocking(secure.client(token=None).alive)).Status == "OK"


async def test_logs_travel_over_tls_with_the_token(secure: Secure) -> None:
    job = secure.backend.add_job(Name="logged")
    secure.backend.add_execution(job.ID)
    secure.backend.log_lines = [LogLine(1, "over tls")]

    def read(client: Client) -> list[str]:
        return [line.Line for line in client.logs(job.ID)]

    assert await blocking(read, secure.client()) == ["over tls\n"]
    with pytest.raises(ApiError) as caught:
        await blocking(read, secure.client(token=None))
    assert caught.value.status == 401


async def test_results_download_over_tls_with_the_token(
    secure: Secure, tmp_path: Path
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "stdout").write_text("hello\n")
    secure.backend.result_folders["e-1"] = folder
    url = f"https://127.0.0.1:{secure.port}/api/v1/local/results/e-1.tar.gz"
    sink = io.BytesIO()
    await blocking(secure.client().download, url, sink)
    sink.seek(0)
    with tarfile.open(fileobj=sink, mode="r:gz") as tar:
        names = tar.getnames()
    assert any(name.endswith("stdout") for name in names)
    with pytest.raises(ApiError) as caught:
        await blocking(secure.client(token=None).download, url, io.BytesIO())
    assert caught.value.status == 401
