"""The `urlDownload` input source against a real HTTP server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from bacalao.dataplane import DataConfig, PluginContext, UrlConfig
from bacalao.models.job import InputSource
from bacalao.storage.exceptions import StorageError
from bacalao.storage.sources import Sources, build_sources
from bacalao.storage.url import file_name

from ..loopback_http import LoopbackServer


def url_input(url: str, target: str = "/inputs") -> InputSource:
    return InputSource.model_validate(
        {"Source": {"Type": "urlDownload", "Params": {"URL": url}}, "Target": target}
    )


async def sources(**url: object) -> Sources:
    settings = UrlConfig(**{"backoff": 0.01, "idle_timeout": 2.0, **url})  # type: ignore[arg-type]
    return await build_sources(PluginContext(DataConfig(url=settings)))


def staged_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


async def test_download_named_from_the_url(web: LoopbackServer, tmp_path: Path):
    url = web.route("/data/table.csv", body=b"a,b\n1,2\n")
    staged = await (await sources()).stage([url_input(url)], tmp_path)
    assert staged[0].read_only
    assert staged[0].target == "/inputs"
    assert staged_files(staged[0].host_path) == {"table.csv": b"a,b\n1,2\n"}


async def test_redirects_are_followed_and_content_disposition_names_it(
    web: LoopbackServer, tmp_path: Path
):
    web.route(
        "/real",
        body=b"payload",
        headers={"Content-Disposition": 'attachment; filename="report.txt"'},
    )
    url = web.route("/old", status=302, headers={"Location": "/real"})
    staged = await (await sources()).stage([url_input(url)], tmp_path)
    assert staged_files(staged[0].host_path) == {"report.txt": b"payload"}


async def test_a_500_then_200_is_retried(web: LoopbackServer, tmp_path: Path):
    url = web.route("/flaky", statuses=[500, 503], body=b"ok now")
    staged = await (await sources(retries=2)).stage([url_input(url)], tmp_path)
    assert staged_files(staged[0].host_path) == {"flaky": b"ok now"}
    assert web.hits["/flaky"] == 3


async def test_a_404_fails_at_once_naming_the_url(web: LoopbackServer, tmp_path: Path):
    url = web.url("/missing.txt")
    with pytest.raises(
        StorageError, match=r"input .*/missing.txt: the server answered HTTP 404"
    ):
        await (await sources(retries=3)).stage([url_input(url)], tmp_path)
    assert web.hits["/missing.txt"] == 1, "a 4xx is not retried"
    assert not (tmp_path / "inputs" / "0").exists()


async def test_5xx_gives_up_after_the_retries(web: LoopbackServer, tmp_path: Path):
    url = web.route("/down", status=500)
    with pytest.raises(StorageError, match=r"HTTP 500 \(after 3 tries\)"):
        await (await sources(retries=2)).stage([url_input(url)], tmp_path)


@pytest.mark.parametrize("chunked", [False, True])
async def test_larger_than_the_limit_fails_and_leaves_nothing(
    web: LoopbackServer, tmp_path: Path, chunked: bool
):
    url = web.route("/big.bin", body=b"x" * 5000, chunked=chunked)
    with pytest.raises(StorageError, match="than this node downloads"):
        await (await sources(max_bytes=1000)).stage([url_input(url)], tmp_path)
    assert not (tmp_path / "inputs" / "0").exists()


async def test_a_stalled_body_times_out(web: LoopbackServer, tmp_path: Path):
    url = web.route("/slow", body=b"y" * 100_000, pause=30)
    with trio.fail_after(20), pytest.raises(StorageError, match=r"no data for 0.3 s"):
        await (await sources(idle_timeout=0.3, retries=1)).stage(
            [url_input(url)], tmp_path
        )
    assert not (tmp_path / "inputs" / "0").exists()


async def test_nobody_listening(tmp_path: Path):
    with pytest.raises(StorageError, match="connection failed"):
        await (await sources(retries=1)).stage(
            [url_input("http://127.0.0.1:9/x")], tmp_path
        )


@pytest.mark.parametrize(
    ("url", "disposition", "name"),
    [
        ("http://h/a/b.txt", None, "b.txt"),
        ("http://h/a/b%20c.txt?x=1", None, "b c.txt"),
        ("http://h/", None, "download"),
        ("http://h/x", 'attachment; filename="../../etc/passwd"', "passwd"),
        ("http://h/x", "attachment; filename*=UTF-8''na%C3%AFve.txt", "naïve.txt"),
        ("http://h/x", 'attachment; filename=".."', "x"),
    ],
)
def test_file_names(url: str, disposition: str | None, name: str):
    assert file_name(url, disposition) == name
