"""`bacalao swarm-key generate` then `bacalao devstack --swarm-key`: a private
local network of processes the CLI talks to as to any other."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bacalao.ports import free_port_block

pytestmark = pytest.mark.e2e

BACALAO = str(Path(sys.executable).parent / "bacalao")


def test_a_private_devstack_forms(tmp_path: Path) -> None:
    key = tmp_path / "swarm.key"
    made = subprocess.run(
        [BACALAO, "swarm-key", "generate", "--output", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    base = free_port_block(2)
    proc = subprocess.Popen(
        [
            *(BACALAO, "devstack", "--nodes", "2", "--api-port", str(base)),
            *("--repo-base", str(tmp_path / "nodes"), "--swarm-key", str(key)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    try:
        seen = []
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            seen.append(line)
            if "devstack ready" in line or time.monotonic() > deadline:
                break
        assert any("devstack ready" in line for line in seen), "".join(seen)
        listed = subprocess.run(
            [BACALAO, "--api-port", str(base + 1), "node", "list", "--output", "json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == 2
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stdout.close()
