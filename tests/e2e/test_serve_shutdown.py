"""`bacalao serve` as a process, stopped by SIGTERM: the request it is
answering gets its answer, a new one gets 503, the process exits 0; and
`bacalao version` shows the same version as the node's API."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bacalao.version import VERSION
from tests.slow_request import put_head, read_all, status_of, submission

pytestmark = pytest.mark.e2e

BACALAO = str(Path(sys.executable).parent / "bacalao")
JOB = {"Type": "batch", "Tasks": [{"Name": "main", "Engine": {"Type": "noop"}}]}


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BACALAO_")}


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A `bacalao serve` process (noop engine, 20 s grace) and its API port."""
    proc = subprocess.Popen(
        [
            BACALAO,
            "serve",
            "--repo",
            str(tmp_path / "repo"),
            "--swarm-host",
            "127.0.0.1",
            "--swarm-port",
            "0",
            "--api-host",
            "127.0.0.1",
            "--api-port",
            "0",
            "--engines",
            "wasm",
            "--allow-noop",
            "--shutdown-grace",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment(),
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    port = 0
    for line in proc.stdout:
        seen.append(line)
        found = re.search(r"API:\s+http://127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    assert port, "".join(seen)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def get(port: int, path: str) -> tuple[int, dict[str, object]]:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_in_flight(port: int, count: int) -> None:
    """Wait until `count` requests (besides the asking one) are in flight."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, debug = get(port, "/api/v1/agent/debug")
        if debug["api"]["in_flight"] > count:  # type: ignore[index]
            return
        time.sleep(0.02)
    pytest.fail(f"{count} requests were never in flight")


def wait_for_line(proc: subprocess.Popen[str], needle: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if needle in line:
            return line
    pytest.fail(f"the node exited without printing {needle!r}")


def test_sigterm_lets_the_request_in_flight_finish(
    node: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = node
    body = submission(JOB)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(put_head("127.0.0.1", port, body) + body[: len(body) // 2])
        wait_in_flight(port, 1)
        proc.send_signal(signal.SIGTERM)
        assert "stopping within 20 s" in wait_for_line(proc, "received SIGTERM")
        status, refusal = get(port, "/api/v1/agent/alive")
        assert (status, refusal["Message"]) == (503, "node is shutting down")
        sock.sendall(body[len(body) // 2 :])
        raw = read_all(sock)
    assert status_of(raw) == 200, raw
    started = time.monotonic()
    assert proc.wait(timeout=20) == 0
    assert time.monotonic() - started < 15  # not the whole grace: nothing ran


def test_a_second_signal_stops_at_once(
    node: tuple[subprocess.Popen[str], int],
) -> None:
    proc, port = node
    body = submission(JOB)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(put_head("127.0.0.1", port, body) + body[:10])  # never ends
        wait_in_flight(port, 1)
        proc.send_signal(signal.SIGTERM)
        wait_for_line(proc, "received SIGTERM")
        proc.send_signal(signal.SIGINT)
        assert "stopping now" in wait_for_line(proc, "received SIGINT")
        assert proc.wait(timeout=10) == 0


def test_the_cli_and_the_api_show_one_version(
    node: tuple[subprocess.Popen[str], int],
) -> None:
    _, port = node
    done = subprocess.run(
        [BACALAO, "--api-port", str(port), "version", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment(),
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    _, served = get(port, "/api/v1/agent/version")
    assert shown["clientVersion"]["GitVersion"] == f"v{VERSION}"
    assert shown["serverVersion"] == served
    assert served["GitVersion"] == f"v{VERSION}"
