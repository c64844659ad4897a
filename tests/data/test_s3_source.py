"""The `s3` input source against moto's S3 server on loopback."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from bacalao.dataplane import DataConfig, PluginContext, S3Config
from bacalao.models.job import InputSource
from bacalao.s3.service import S3Service
from bacalao.storage.exceptions import StorageError
from bacalao.storage.s3 import S3InputSource, check_params
from bacalao.storage.sources import Sources, build_sources

from .conftest import Locked, Moto

TREE = {
    "data/a.txt": b"alpha\n",
    "data/sub/b.csv": b"1,2,3\n",
    "data/sub/deeper/c.bin": bytes(range(256)) * 10,
    "data/sub/": b"",  # a folder marker, as consoles create
    "other/x.txt": b"not under data/\n",
}


def s3_input(
    bucket: str, key: str, target: str = "/inputs", **params: Any
) -> InputSource:
    source = {"Type": "s3", "Params": {"Bucket": bucket, "Key": key, **params}}
    return InputSource.model_validate({"Source": source, "Target": target})


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


async def sources_for(s3: S3Service) -> Sources:
    return await build_sources(PluginContext(DataConfig(), s3=s3))


async def test_a_single_object_lands_under_its_name(
    moto: Moto, s3: S3Service, tmp_path: Path
):
    bucket = moto.bucket(TREE)
    staged = await (await sources_for(s3)).stage(
        [s3_input(bucket, "data/a.txt")], tmp_path
    )
    assert staged[0].target == "/inputs"
    assert staged[0].read_only
    assert files(staged[0].host_path) == {"a.txt": b"alpha\n"}


async def test_a_prefix_keeps_the_tree(moto: Moto, s3: S3Service, tmp_path: Path):
    bucket = moto.bucket(TREE)
    staged = await (await sources_for(s3)).stage([s3_input(bucket, "data/")], tmp_path)
    assert files(staged[0].host_path) == {
        "a.txt": TREE["data/a.txt"],
        "sub/b.csv": TREE["data/sub/b.csv"],
        "sub/deeper/c.bin": TREE["data/sub/deeper/c.bin"],
    }


async def test_a_filter_keeps_matching_keys(moto: Moto, s3: S3Service, tmp_path: Path):
    bucket = moto.bucket(TREE)
    source = s3_input(bucket, "data/", Filter=r"\.(csv|bin)$")
    staged = await (await sources_for(s3)).stage([source], tmp_path)
    assert sorted(files(staged[0].host_path)) == ["sub/b.csv", "sub/deeper/c.bin"]


async def test_the_whole_bucket_with_an_empty_key(
    moto: Moto, s3: S3Service, tmp_path: Path
):
    bucket = moto.bucket({"x.txt": b"x", "d/y.txt": b"y"})
    staged = await (await sources_for(s3)).stage([s3_input(bucket, "")], tmp_path)
    assert files(staged[0].host_path) == {"x.txt": b"x", "d/y.txt": b"y"}


@pytest.mark.parametrize("encode", [bytes.hex, lambda d: base64.b64encode(d).decode()])
async def test_a_checksum_that_matches(
    moto: Moto, s3: S3Service, tmp_path: Path, encode: Any
):
    bucket = moto.bucket(TREE)
    digest = encode(hashlib.sha256(TREE["data/a.txt"]).digest())
    source = s3_input(bucket, "data/a.txt", ChecksumSHA256=digest)
    staged = await (await sources_for(s3)).stage([source], tmp_path)
    assert files(staged[0].host_path) == {"a.txt": b"alpha\n"}


@pytest.mark.parametrize(
    ("key", "params", "reason"),
    [
        ("data/a.txt", {"ChecksumSHA256": "00" * 32}, "checksum mismatch"),
        ("data/missing.txt", {}, "no such key"),
        ("nothing-here/", {}, "no objects under this prefix"),
        ("data/", {"Filter": "zzz"}, "no objects under this prefix"),
    ],
)
async def test_failures_name_the_source_and_leave_no_files(
    moto: Moto,
    s3: S3Service,
    tmp_path: Path,
    key: str,
    params: dict[str, str],
    reason: str,
):
    bucket = moto.bucket(TREE)
    with pytest.raises(StorageError) as failed:
        await (await sources_for(s3)).stage([s3_input(bucket, key, **params)], tmp_path)
    assert f"s3://{bucket}/{key}" in str(failed.value)
    assert reason in str(failed.value)
    assert not (tmp_path / "inputs" / "0").exists()


async def test_an_unknown_bucket(moto: Moto, s3: S3Service, tmp_path: Path):
    with pytest.raises(
        StorageError, match="s3://no-such-bucket-here/k: the bucket does not exist"
    ):
        await (await sources_for(s3)).stage(
            [s3_input("no-such-bucket-here", "k")], tmp_path
        )


async def test_an_endpoint_that_is_not_s3(s3: S3Service, tmp_path: Path, web: Any):
    web.route("/", body=b"<html>hello</html>")
    source = s3_input("bucket", "key", Endpoint=web.url("").rstrip("/"))
    with pytest.raises(StorageError, match="is it an S3 endpoint"):
        await (await sources_for(s3)).stage([source], tmp_path)


async def test_an_endpoint_nobody_listens_on(s3: S3Service, tmp_path: Path):
    source = s3_input("bucket", "key/", Endpoint="http://127.0.0.1:9")
    with pytest.raises(StorageError, match="cannot connect to the S3 endpoint"):
        await (await sources_for(s3)).stage([source], tmp_path)


async def test_a_key_that_would_escape_the_folder(
    moto: Moto, s3: S3Service, tmp_path: Path
):
    bucket = moto.bucket({"d/../../etc/passwd": b"x", "d/ok.txt": b"ok"})
    with pytest.raises(StorageError, match="cannot be a file path"):
        await (await sources_for(s3)).stage([s3_input(bucket, "d/")], tmp_path)
    assert not (tmp_path / "etc").exists()


async def test_offered_only_with_credentials(moto: Moto, no_s3_env: None):
    service = S3Service(S3Config(endpoint=moto.endpoint))
    await service.start()
    try:
        sources = await build_sources(PluginContext(DataConfig(), s3=service))
        assert "s3" not in sources.types
        assert "urlDownload" in sources.types
        assert "no S3 credentials" in (service.problem or "")
    finally:
        await service.aclose()


def test_params_are_checked_without_io():
    assert check_params({"Key": "k"}).param == "Bucket"  # type: ignore[union-attr]
    assert check_params({"Bucket": "b", "Filter": "("}).param == "Filter"  # type: ignore[union-attr]
    bad_sum = check_params({"Bucket": "b", "Key": "k", "ChecksumSHA256": "abc"})
    assert bad_sum is not None
    assert bad_sum.param == "ChecksumSHA256"
    on_prefix = check_params({"Bucket": "b", "Key": "d/", "VersionID": "v1"})
    assert on_prefix is not None
    assert on_prefix.param == "VersionID"
    assert check_params({"bucket": "b", "key": "k", "region": "eu-west-1"}) is None
    plugin = S3InputSource(None, S3Config())
    assert "Bucket" in (plugin.refusal(s3_input("", "k")) or "")


async def test_access_denied(
    locked: Locked, s3_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", locked.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", locked.secret_key)
    service = S3Service(S3Config(endpoint=locked.endpoint))
    await service.start()
    try:
        source = s3_input(locked.bucket, "secret.txt")
        with pytest.raises(StorageError, match=r"secret\.txt: access denied"):
            await (await sources_for(service)).stage([source], tmp_path)
        assert not (tmp_path / "inputs" / "0").exists()
    finally:
        await service.aclose()
