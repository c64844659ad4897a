"""Compute over data through the CLI, as a user does it: results published
to IPFS by default, `job get` and `ipfs get` on other nodes, data added on
one node used as a job's input on another, modules fetched by CID."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import wasmtime

from tests.needs import need_docker_image

from .test_cli_devstack import EXAMPLES, cli, devstack

__all__ = ["devstack"]


def published_cid(port: int, job_id: str) -> str:
    listed = cli(port, "job", "executions", job_id, "--output", "json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    items = items["Items"] if isinstance(items, dict) else items
    done = [e for e in items if e["PublishedResult"]["Type"]]
    assert done, items
    result = done[0]["PublishedResult"]
    assert result["Type"] == "ipfs"
    return str(result["Params"]["CID"])


def test_results_go_to_ipfs_and_come_back_from_any_node(
    devstack: int, tmp_path: Path
) -> None:
    module = tmp_path / "hello.wasm"
    module.write_bytes(wasmtime.wat2wasm((EXAMPLES / "wasm" / "hello.wat").read_text()))
    job_id = cli(devstack, "wasm", "run", "--id-only", str(module))
    assert job_id.returncode == 0, job_id.stderr
    job = job_id.stdout.strip()

    got = cli(devstack + 1, "job", "get", job, "--output-dir", str(tmp_path / "r"))
    assert got.returncode == 0, got.stderr
    assert "hello from wasm" in (tmp_path / "r" / "stdout").read_text()
    assert (tmp_path / "r" / "exitCode").read_text().strip() == "0"

    cid = published_cid(devstack, job)
    fetched = cli(devstack + 2, "ipfs", "get", cid, "-o", str(tmp_path / "by-cid"))
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "by-cid" / "stdout").read_text() == (
        tmp_path / "r" / "stdout"
    ).read_text()
    listed = cli(devstack + 2, "ipfs", "ls", cid)
    assert "stdout" in listed.stdout
    pins = cli(devstack + 2, "ipfs", "pin", "ls")
    assert cid in pins.stdout


def test_data_added_on_one_node_is_an_input_on_another(
    devstack: int, tmp_path: Path
) -> None:
    data = tmp_path / "dataset"
    (data / "part").mkdir(parents=True)
    (data / "part" / "numbers.txt").write_text("1\n2\n3\n")
    blob = os.urandom(600 * 1024)
    (data / "blob.bin").write_bytes(blob)
    added = cli(devstack, "ipfs", "add", str(data))
    assert added.returncode == 0, added.stderr
    cid = added.stdout.strip().splitlines()[-1]
    assert cid.startswith("Qm")

    directory = cli(devstack + 1, "ipfs", "cat", cid)
    assert directory.returncode != 0
    assert "is a directory" in directory.stderr
    listed = cli(devstack + 1, "ipfs", "ls", cid)
    assert "blob.bin" in listed.stdout

    need_docker_image()
    run = cli(
        devstack + 2,
        "docker",
        "run",
        "-i",
        f"ipfs://{cid}:/data",
        "busybox:1.37.0",
        "--",
        "sh",
        "-c",
        "cat /data/part/numbers.txt; wc -c < /data/blob.bin",
    )
    assert run.returncode == 0, run.stderr
    assert "1\n2\n3" in run.stdout
    assert str(len(blob)) in run.stdout


def test_wasm_module_by_cid(devstack: int, tmp_path: Path) -> None:
    module = tmp_path / "hello.wasm"
    module.write_bytes(wasmtime.wat2wasm((EXAMPLES / "wasm" / "hello.wat").read_text()))
    added = cli(devstack + 1, "ipfs", "add", "-q", str(module))
    cid = added.stdout.strip()
    run = cli(devstack, "wasm", "run", cid)
    assert run.returncode == 0, run.stderr
    assert "hello from wasm" in run.stdout


def test_a_cid_nobody_has_is_one_line_naming_it(devstack: int, tmp_path: Path) -> None:
    missing = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"  # `hello\n`, unheld
    got = cli(
        devstack, "ipfs", "get", missing, "-o", str(tmp_path / "x"),
        "--download-timeout-secs", "2",
    )  # fmt: skip
    assert got.returncode != 0
    assert missing in got.stderr
    assert "Traceback" not in got.stderr
    bad = cli(devstack, "ipfs", "get", "not-a-cid")
    assert bad.returncode != 0
    assert "invalid CID" in bad.stderr


pytestmark = pytest.mark.e2e
