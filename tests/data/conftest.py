"""Fixtures of the data-plane tests: a real S3 server and a real web server.

`moto` is moto's S3 server (server mode, `ThreadedMotoServer`) listening on
127.0.0.1: every S3 call goes over HTTP to it, as to AWS. `s3_env` gives
the process credentials the way AWS tools read them (and hides any real
AWS config on the machine). `web` is a loopback HTTP server whose routes
each test scripts (see `tests/loopback_http.py`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio

from bacalao.dataplane import S3Config
from bacalao.ports import free_port
from bacalao.s3.service import S3Service

from ..loopback_http import LoopbackServer


class Moto:
    """moto's S3 server on loopback, and a plain boto3 client to set it up."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def bucket(self, objects: dict[str, bytes] | None = None) -> str:
        """A new bucket holding `objects` (key → body)."""
        name = f"b-{uuid.uuid4().hex[:12]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        for key, body in (objects or {}).items():
            client.put_object(Bucket=name, Key=key, Body=body)
        return name

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        client = self.client()
        found: dict[str, bytes] = {}
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
                found[item["Key"]] = body.read()
        return found


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Moto(f"http://{host}:{port}")
    finally:
        server.stop()


@dataclass(frozen=True)
class Locked:
    """A moto server that enforces IAM, a bucket in it, and the keys of a
    user with no permissions at all."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str


@pytest.fixture(scope="session")
def locked() -> Iterator[Locked]:
    """moto's server as a process that checks credentials after the first
    four calls (`INITIAL_NO_AUTH_ACTION_COUNT`), which set it up."""
    import boto3

    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "4"}
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_serving(endpoint + "/moto-api/", server)
        root = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "AKIAROOTROOTROOT",
            "aws_secret_access_key": "root",
        }
        iam = boto3.client("iam", **root)
        iam.create_user(UserName="nobody")
        key = iam.create_access_key(UserName="nobody")["AccessKey"]
        s3 = boto3.client("s3", **root)
        s3.create_bucket(Bucket="locked")
        s3.put_object(Bucket="locked", Key="secret.txt", Body=b"secret")
        yield Locked(endpoint, "locked", key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        server.terminate()
        server.wait(10)


def _wait_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.05)


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials in the environment, no AWS config files of the machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-creds"))
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS credentials anywhere a tool would look."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-creds"))


@pytest.fixture
async def s3(moto: Moto, s3_env: None) -> AsyncIterator[S3Service]:
    """The node's S3 service, aimed at moto by default."""
    service = S3Service(S3Config(endpoint=moto.endpoint))
    await service.start()
    try:
        yield service
    finally:
        with trio.CancelScope(shield=True):
            await service.aclose()


@pytest.fixture
def web() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


# the in-process swarms of the integration tests, for end-to-end data tests
from ..integration.conftest import devstack, docker_engine  # noqa: E402, F401
