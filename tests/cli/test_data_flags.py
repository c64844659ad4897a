"""The CLI's data flags: -i/-p spellings, `job get` of S3 results through
pre-signed URLs, and the operator's data settings on serve/devstack."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from bacalao.config import NodeConfig
from bacalao.models.job import SpecConfig

from ..loopback_http import LoopbackServer
from .support import Live, run_cli
from .test_run import submitted


def test_s3_publisher_options(live: Live) -> None:
    spec = "s3://bkt/out/{jobID},opt=region=eu-west-1,opt=endpoint=http://h:9,opt=compress=true"
    assert live("docker", "run", "--id-only", "-p", spec, "busybox").exit_code == 0
    publisher = submitted(live).task.Publisher
    assert publisher.Params == {
        "Bucket": "bkt",
        "Key": "out/{jobID}",
        "Region": "eu-west-1",
        "Endpoint": "http://h:9",
        "Compress": True,
    }


def test_s3_publisher_unknown_option(live: Live) -> None:
    result = live("docker", "run", "-p", "s3://bkt/k,opt=colour=red", "busybox")
    assert result.exit_code != 0
    assert "unknown option 'opt=colour=red'" in result.stderr


def test_url_and_s3_inputs(live: Live) -> None:
    args = [
        "-i", "https://example.com/data/file.csv:/data",
        "-i", "s3://bkt/prefix/:/s3,opt=region=eu-west-1,opt=filter=.*csv",
    ]  # fmt: skip
    assert live("docker", "run", "--id-only", *args, "busybox").exit_code == 0
    sources = submitted(live).task.InputSources
    assert (sources[0].Source.Type, sources[0].Target) == ("urlDownload", "/data")
    assert sources[0].Source.Params == {"URL": "https://example.com/data/file.csv"}
    assert sources[1].Source.Type == "s3"
    assert sources[1].Source.Params["Filter"] == ".*csv"


def _published(live: Live, spec: SpecConfig) -> str:
    job = live.backend.add_job()
    live.backend.add_execution(job.ID, PublishedResult={"Type": "s3", "Params": {}})
    live.backend.signed["s3"] = spec
    return job.ID


def test_job_get_of_files_behind_presigned_urls(live: Live, tmp_path: Path) -> None:
    with LoopbackServer() as web:
        files = [
            {"Path": "stdout", "URL": web.route("/a", body=b"hi\n"), "Size": 3},
            {"Path": "outputs/d/x.bin", "URL": web.route("/b", body=b"\x00" * 9)},
        ]
        spec = SpecConfig(Type="urlFiles", Params={"Name": "e-1", "Files": files})
        job_id = _published(live, spec)
        out = tmp_path / "out"
        result = live("job", "get", job_id, "--output-dir", str(out))
    assert result.exit_code == 0, result.stderr
    assert (out / "stdout").read_bytes() == b"hi\n"
    assert (out / "outputs" / "d" / "x.bin").read_bytes() == b"\x00" * 9
    assert "Downloading e-1" in result.stderr


def test_job_get_refuses_paths_outside_the_folder(live: Live, tmp_path: Path) -> None:
    with LoopbackServer() as web:
        files = [{"Path": "../evil", "URL": web.route("/a", body=b"x"), "Size": 1}]
        job_id = _published(live, SpecConfig(Type="urlFiles", Params={"Files": files}))
        result = live("job", "get", job_id, "--output-dir", str(tmp_path / "out"))
    assert result.exit_code != 0
    assert "not a path inside the output folder" in result.stderr
    assert not (tmp_path / "evil").exists()


def test_job_get_when_the_node_cannot_sign(live: Live) -> None:
    job = live.backend.add_job()
    published = {"Type": "s3", "Params": {"Bucket": "bkt", "Key": "k/"}}
    live.backend.add_execution(job.ID, PublishedResult=published)
    result = live("job", "get", job.ID)
    assert result.exit_code != 0
    assert "s3://bkt/k/" in result.stderr
    assert "cannot sign" in result.stderr


@pytest.fixture
def fake_node(monkeypatch: pytest.MonkeyPatch) -> list[NodeConfig]:
    calls: list[NodeConfig] = []
    module = types.ModuleType("bacalao.process")
    module.serve = calls.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bacalao.process", module)
    return calls


def test_serve_data_flags(fake_node: list[NodeConfig], tmp_path: Path) -> None:
    result = run_cli(
        "serve", "--repo", str(tmp_path),
        "--allow-listed-local-paths", "/srv/a/**,/srv/b:rw",
        "--allow-listed-local-paths", "/data",
        "--default-publisher", "local", "--s3-endpoint", "http://127.0.0.1:5000",
        "--s3-region", "eu-west-1", "--s3-managed-bucket", "results",
        "--url-max-bytes", "1000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [config] = fake_node
    assert config.allowed_local_paths == ["/srv/a/**", "/srv/b:rw", "/data"]
    assert config.default_publisher == "local"
    assert (config.s3_endpoint, config.s3_region) == (
        "http://127.0.0.1:5000",
        "eu-west-1",
    )
    assert config.s3_managed_bucket == "results"
    assert config.url_max_bytes == 1000


def test_data_settings_from_env(
    fake_node: list[NodeConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACALAO_S3_ENDPOINT", "http://127.0.0.1:5001")
    monkeypatch.setenv("BACALAO_ALLOWED_LOCAL_PATHS", "/x/**,/y")
    assert run_cli("serve", "--repo", str(tmp_path)).exit_code == 0
    [config] = fake_node
    assert config.s3_endpoint == "http://127.0.0.1:5001"
    assert config.allowed_local_paths == ["/x/**", "/y"]


def test_an_unknown_default_publisher_is_refused(
    fake_node: list[NodeConfig], tmp_path: Path
) -> None:
    result = run_cli("serve", "--repo", str(tmp_path), "--default-publisher", "ftp")
    assert result.exit_code != 0
    assert "unknown publisher 'ftp'" in result.stderr
    assert not fake_node


def test_devstack_hands_over_data_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("bacalao.devstack")
    module.main = lambda **kwargs: calls.append(kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bacalao.devstack", module)
    args = ["devstack", "--s3-endpoint", "http://127.0.0.1:5000"]
    assert run_cli(*args, "--default-publisher", "s3managed").exit_code == 0
    assert calls[0]["s3_endpoint"] == "http://127.0.0.1:5000"
    assert calls[0]["default_publisher"] == "s3managed"
