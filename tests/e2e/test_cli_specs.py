"""Bacalhau's own example job specs, unchanged, through the real console
script (`bacalao job run ...`) against a two-node devstack.

The specs in examples/specs/ are copies of files in Bacalhau's repository
(`testdata/jobs/`, `test_integration/common_assets/job_specs/`). The docker
ones need an engine with busybox:1.37.0 (scripts/setup-docker.sh); without
one they are skipped, except under CI=true where that is a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.support import running_devstack
from tests.needs import missing

pytestmark = pytest.mark.e2e

BACALAO = str(Path(sys.executable).parent / "bacalao")
SPECS = Path(__file__).resolve().parents[2] / "examples" / "specs"


def _docker_ready() -> bool:
    try:
        probe = subprocess.run(
            ["docker", "image", "inspect", "busybox:1.37.0"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@pytest.fixture(scope="module")
def ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    with running_devstack(tmp_path_factory.mktemp("nodes"), 2) as handles:
        yield [h.api_port for h in handles]


@pytest.fixture(scope="module")
def docker() -> None:
    if not _docker_ready():
        missing("no Docker engine with busybox:1.37.0; run scripts/setup-docker.sh")


def cli(
    port: int, *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BACALAO, "--api-port", str(port), *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=90,
    )


def state_of(port: int, job_id: str) -> str:
    described = cli(port, "job", "describe", job_id, "--output", "json")
    assert described.returncode == 0, described.stderr
    state: str = json.loads(described.stdout)["Job"]["State"]["StateType"]
    return state


@pytest.mark.usefixtures("docker")
def test_hello_world_batch_job(ports: list[int]) -> None:
    run = cli(ports[0], "job", "run", str(SPECS / "hello_world.yml"))
    assert run.returncode == 0, run.stderr
    assert "Job Completed." in run.stdout
    assert "hello bacalhau world" in run.stdout


@pytest.mark.usefixtures("docker")
def test_daemon_job_runs_on_every_node_until_stopped(ports: list[int]) -> None:
    spec = SPECS / "19-basic-daemon-job-v1.yml"
    run = cli(ports[0], "job", "run", "--id-only", str(spec))
    assert run.returncode == 0, run.stderr
    job_id = run.stdout.strip().splitlines()[-1]
    assert state_of(ports[1], job_id) == "Running"
    executions = cli(ports[0], "job", "executions", job_id, "--output", "json")
    assert len(json.loads(executions.stdout)["Items"]) == 2  # daemon: every node
    stop = cli(ports[0], "job", "stop", job_id)
    assert stop.returncode == 0, stop.stderr
    assert "Job stop successfully submitted" in stop.stdout
    deadline = time.monotonic() + 15
    while state_of(ports[0], job_id) != "Stopped":
        assert time.monotonic() < deadline, "the daemon job did not stop"
        time.sleep(0.2)


@pytest.mark.parametrize("spec", ["noop.yaml", "nameless.yaml"])
def test_noop_specs(ports: list[int], spec: str) -> None:
    run = cli(ports[0], "job", "run", str(SPECS / spec))
    assert run.returncode == 0, run.stderr
    assert "Job Completed." in run.stdout


@pytest.mark.usefixtures("docker")
def test_output_spec_results_and_logs(ports: list[int], tmp_path: Path) -> None:
    text = (SPECS / "docker-output.yaml").read_text()
    run = cli(ports[0], "job", "run", "--id-only", "-", input=text)
    assert run.returncode == 0, run.stderr
    job_id = run.stdout.strip().splitlines()[-1]
    got = cli(ports[1], "job", "get", job_id[:10], "--output-dir", str(tmp_path))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "output_custom" / "output.txt").read_text() == "15\n"
    assert (tmp_path / "exitCode").read_text().strip() == "0"

    echo = cli(ports[0], "job", "run", "--id-only", str(SPECS / "docker.yaml"))
    echo_id = echo.stdout.strip().splitlines()[-1]
    logs = cli(ports[1], "job", "logs", echo_id)
    assert (logs.returncode, logs.stdout) == (0, "15\n"), logs.stderr


@pytest.mark.parametrize("spec", ["wasm_legacy.yaml", "wasm.yaml"])
def test_wasm_specs(ports: list[int], spec: str) -> None:
    run = cli(ports[0], "job", "run", str(SPECS / spec))
    assert run.returncode == 0, run.stderr


def test_console_script_reads_and_errors(ports: list[int]) -> None:
    nodes = cli(ports[1], "node", "list", "--output", "json")
    assert len(json.loads(nodes.stdout)["Nodes"]) == 2
    alive = cli(ports[0], "agent", "alive")
    assert alive.stdout.strip() == "Status = OK"
    version = cli(ports[0], "version", "--output", "json")
    assert set(json.loads(version.stdout)) == {"clientVersion", "serverVersion"}
    bad = cli(ports[0], "job", "run", str(SPECS / "missing.yaml"))
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr
