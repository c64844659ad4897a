"""The real thing: `bacalao devstack` and the CLI as separate processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import wasmtime

from bacalao.ports import free_port, free_port_block, port_is_free
from tests.needs import need_docker_image

pytestmark = pytest.mark.e2e

BACALAO = str(Path(sys.executable).parent / "bacalao")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def cli(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BACALAO, "--api-port", str(port), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def devstack(tmp_path: Path) -> Iterator[int]:
    """A 3-node devstack process; yields node 0's API port."""
    base = free_port_block(3)
    proc = subprocess.Popen(
        [
            BACALAO,
            "devstack",
            "--nodes",
            "3",
            "--api-port",
            str(base),
            "--repo-base",
            str(tmp_path / "nodes"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        seen.append(line)
        if "devstack ready" in line or time.monotonic() > deadline:
            break
    assert any("devstack ready" in line for line in seen), "".join(seen)
    banner = "".join(seen)
    for i in range(3):
        assert f"127.0.0.1:{base + i}" in banner
    try:
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("devstack did not stop within 20 s of SIGINT")
        rest = proc.stdout.read()
        proc.stdout.close()
        assert code == 0, rest
        assert all(port_is_free(base + i) for i in range(3))


def test_wasm_job_through_the_cli(devstack: int, tmp_path: Path) -> None:
    module = tmp_path / "hello.wasm"
    module.write_bytes(wasmtime.wat2wasm((EXAMPLES / "wasm" / "hello.wat").read_text()))
    run = cli(devstack, "wasm", "run", str(module))
    assert run.returncode == 0, run.stderr
    assert "hello from wasm" in run.stdout
    assert "Completed" in run.stdout

    job_id = cli(devstack, "wasm", "run", "--id-only", str(module)).stdout.strip()
    assert job_id.startswith("j-")
    described = cli(devstack + 2, "job", "describe", job_id[:10], "--output", "json")
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["Job"]["ID"] == job_id

    nodes = cli(devstack + 1, "node", "list", "--output", "json")
    assert (
        len(json.loads(nodes.stdout)) == 3
        or len(json.loads(nodes.stdout)["Nodes"]) == 3
    )


def test_cli_errors_are_one_line_without_traceback(devstack: int) -> None:
    missing = cli(devstack, "job", "describe", "j-nope")
    assert missing.returncode != 0
    assert "Traceback" not in missing.stderr
    assert "j-nope" in missing.stderr
    nobody = cli(free_port(), "job", "list")
    assert nobody.returncode != 0
    assert "Traceback" not in nobody.stderr
    assert len(nobody.stderr.strip().splitlines()) == 1


def test_docker_job_through_the_cli(devstack: int) -> None:
    need_docker_image()
    run = cli(
        devstack, "docker", "run", "busybox:1.37.0", "--", "echo", "hello from docker"
    )
    assert run.returncode == 0, run.stderr
    assert "hello from docker" in run.stdout
