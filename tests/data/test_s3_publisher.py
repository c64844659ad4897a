"""The `s3` and `s3managed` publishers against moto's S3 server on loopback,
and the pre-signed URLs `job get` downloads their results through."""

from __future__ import annotations

import io
import os
import re
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import trio

from bacalao.dataplane import DataConfig, PluginContext, S3Config
from bacalao.models.job import SpecConfig
from bacalao.publishers.base import PublishRequest
from bacalao.publishers.downloads import downloadable
from bacalao.publishers.exceptions import PublishError
from bacalao.publishers.s3 import check_params
from bacalao.publishers.set import Publishers, build_publishers
from bacalao.s3.service import S3Service

from .conftest import Moto

MiB = 1024 * 1024


def results(folder: Path) -> Path:
    (folder / "outputs" / "deep").mkdir(parents=True)
    (folder / "stdout").write_text("hello\n")
    (folder / "stderr").write_text("")
    (folder / "exitCode").write_text("0")
    (folder / "outputs" / "deep" / "data.bin").write_bytes(os.urandom(3000))
    return folder


def request(tmp_path: Path, publisher: str, **params: Any) -> PublishRequest:
    return PublishRequest(
        spec=SpecConfig(Type=publisher, Params=params),
        results_dir=results(tmp_path / "results"),
        scratch=tmp_path / "scratch",
        execution_id="e-123",
        job_id="j-456",
        node_id="QmNode",
    )


def on_disk(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }


async def publishers(s3: S3Service, **settings: Any) -> Publishers:
    config = DataConfig(s3=S3Config(endpoint=s3.config.endpoint, **settings))
    return await build_publishers(PluginContext(config, s3=s3))


async def test_uncompressed_keeps_the_tree_under_the_expanded_key(
    moto: Moto, s3: S3Service, tmp_path: Path
):
    bucket = moto.bucket()
    ask = request(
        tmp_path, "s3", Bucket=bucket, Key="runs/{jobID}/{executionID}-{nodeID}"
    )
    published = await (await publishers(s3)).publish(ask)
    key = "runs/j-456/e-123-QmNode/"
    assert published.Type == "s3"
    assert published.Params["Bucket"] == bucket
    assert published.Params["Key"] == key
    stored = await trio.to_thread.run_sync(moto.objects, bucket)
    assert stored == {key + k: v for k, v in on_disk(ask.results_dir).items()}


async def test_date_and_time_placeholders(moto: Moto, s3: S3Service, tmp_path: Path):
    bucket = moto.bucket()
    ask = request(tmp_path, "s3", Bucket=bucket, Key="{date}/{time}")
    published = await (await publishers(s3)).publish(ask)
    assert re.fullmatch(r"\d{8}/\d{6}/", published.Params["Key"])


async def test_compressed_is_one_archive(moto: Moto, s3: S3Service, tmp_path: Path):
    bucket = moto.bucket()
    ask = request(tmp_path, "s3", Bucket=bucket, Key="out/{jobID}", Compress="true")
    published = await (await publishers(s3)).publish(ask)
    assert published.Params["Key"] == "out/j-456.tar.gz"
    stored = await trio.to_thread.run_sync(moto.objects, bucket)
    assert list(stored) == ["out/j-456.tar.gz"]
    with tarfile.open(fileobj=io.BytesIO(stored["out/j-456.tar.gz"])) as tar:
        unpacked = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    assert unpacked == on_disk(ask.results_dir)


async def test_a_large_file_goes_up_in_parts(moto: Moto, s3: S3Service, tmp_path: Path):
    bucket = moto.bucket()
    ask = request(tmp_path, "s3", Bucket=bucket, Key="big")
    big = os.urandom(12 * MiB + 5)
    (ask.results_dir / "outputs" / "big.bin").write_bytes(big)
    published = await (
        await publishers(s3, part_size=5 * MiB, multipart_threshold=5 * MiB)
    ).publish(ask)
    client = moto.client()
    head = await trio.to_thread.run_sync(
        lambda: client.head_object(Bucket=bucket, Key="big/outputs/big.bin")
    )
    assert head["ETag"].strip('"').endswith("-3"), "three parts"
    stored = await trio.to_thread.run_sync(moto.objects, bucket, "big/outputs/big.bin")
    assert stored["big/outputs/big.bin"] == big
    assert published.Params["Key"] == "big/"


async def test_an_unknown_bucket_fails_naming_it(s3: S3Service, tmp_path: Path):
    ask = request(tmp_path, "s3", Bucket="no-such-bucket-here", Key="k")
    with pytest.raises(
        PublishError, match="s3://no-such-bucket-here/k/: the bucket does not exist"
    ):
        await (await publishers(s3)).publish(ask)


async def test_s3managed_needs_the_operators_bucket(
    moto: Moto, s3: S3Service, tmp_path: Path
):
    assert "s3managed" not in (await publishers(s3)).types
    bucket = moto.bucket()
    managed = await publishers(s3, managed_bucket=bucket, managed_prefix="m/{jobID}/")
    assert "s3managed" in managed.types
    published = await managed.publish(request(tmp_path, "s3managed"))
    assert published.Params["Key"] == "m/j-456/"
    stored = await trio.to_thread.run_sync(moto.objects, bucket)
    assert "m/j-456/stdout" in stored


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


async def test_presigned_urls_need_no_credentials(
    moto: Moto, s3: S3Service, tmp_path: Path
):
    bucket = moto.bucket()
    plugins = await publishers(s3)
    tree = await plugins.publish(request(tmp_path / "a", "s3", Bucket=bucket, Key="t"))
    archive = await plugins.publish(
        request(tmp_path / "b", "s3", Bucket=bucket, Key="z", Compress=True)
    )
    files = (await downloadable(tree, s3)).Params["Files"]
    got = {f["Path"]: await trio.to_thread.run_sync(_get, f["URL"]) for f in files}
    assert got == on_disk(tmp_path / "a" / "results")
    assert all("X-Amz-Signature=" in f["URL"] for f in files), files
    single = await downloadable(archive, s3)
    assert single.Type == "urlDownload"
    body = await trio.to_thread.run_sync(_get, single.Params["URL"])
    assert body[:2] == b"\x1f\x8b"  # a gzip stream
    local = SpecConfig(Type="urlDownload", Params={"URL": "http://x/e.tar.gz"})
    assert await downloadable(local, s3) == local


def test_params_are_checked_without_io():
    assert check_params({"Key": "k"}).param == "Bucket"  # type: ignore[union-attr]
    endpoint = check_params({"Bucket": "b", "Endpoint": "ftp://x"})
    assert endpoint is not None
    assert endpoint.param == "Endpoint"
    assert check_params({"bucket": "b", "compress": True}) is None
