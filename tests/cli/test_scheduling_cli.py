"""Scheduling as a Bacalhau user meets it through the CLI: queue timeouts
that bound the whole wait, ops jobs placed once, stopping a stopped job,
and the labels a node carries by itself."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.support import run_cli, running_devstack

pytestmark = pytest.mark.e2e

SPEC = """\
Name: {name}
Type: {type}
Count: {count}
Tasks:
  - Name: main
    Engine:
      Type: noop
      Params:
        Duration: {duration}
    Resources:
      CPU: "1"
    Timeouts:
      QueueTimeout: {queue_timeout}
"""


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One compute node with one CPU for tasks and room in its own queue."""
    with running_devstack(
        tmp_path_factory.mktemp("nodes"), 1, max_cpu=1.0, max_queued=4
    ) as handles:
        yield handles[0].api_port


def spec(tmp_path: Path, name: str, **fields: object) -> str:
    values = {"type": "batch", "count": 1, "duration": 0.1, "queue_timeout": 0}
    values.update(fields)
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, **values))
    return str(path)


def bacalao(port: int, *args: str) -> tuple[int, str]:
    result = run_cli("--api-port", str(port), *args)
    return result.exit_code, result.output


def job_state(port: int, job_id: str) -> dict[str, object]:
    code, out = bacalao(port, "job", "describe", job_id, "--output", "json")
    assert code == 0, out
    state: dict[str, object] = json.loads(out)["Job"]["State"]
    return state


def test_queue_timeout_bounds_the_wait_in_a_busy_nodes_queue(
    port: int, tmp_path: Path
) -> None:
    long_job = spec(tmp_path, "holds-the-cpu", duration=30)
    code, out = bacalao(port, "job", "run", long_job, "--wait=false", "--id-only")
    assert code == 0, out
    holder = out.strip()
    try:
        queued = spec(tmp_path, "waits", queue_timeout=2)
        started = time.monotonic()
        code, out = bacalao(port, "job", "run", queued)
        waited = time.monotonic() - started
        assert code != 0, out  # the job failed: the command says so
        assert "did not start within its queue timeout of 2 s" in out
        assert waited < 20, f"waited {waited:.0f} s for a 2 s queue timeout"
    finally:
        bacalao(port, "job", "stop", holder)


def test_stopping_a_stopped_job_says_so(port: int, tmp_path: Path) -> None:
    code, out = bacalao(
        port, "job", "run", spec(tmp_path, "to-stop", duration=30), "--wait=false"
    )
    assert code == 0, out
    job_id = out.split("Job ID:")[-1].split()[0] if "Job ID:" in out else out.strip()
    code, out = bacalao(port, "job", "stop", job_id)
    assert code == 0, out
    assert job_state(port, job_id)["StateType"] == "Stopped"
    code, out = bacalao(port, "job", "stop", job_id)
    assert code != 0
    assert "already Stopped" in out
    assert "Traceback" not in out


def test_an_ops_job_runs_once_on_each_node_that_matched(
    port: int, tmp_path: Path
) -> None:
    code, out = bacalao(port, "job", "run", spec(tmp_path, "ops-once", type="ops"))
    assert code == 0, out
    job_id = out.split("Job ID:")[-1].split()[0]
    code, out = bacalao(port, "job", "executions", job_id, "--output", "json")
    assert code == 0, out
    executions = json.loads(out)
    items = executions if isinstance(executions, list) else executions["Items"]
    assert len(items) == 1
    assert job_state(port, job_id)["StateType"] == "Completed"


def test_a_node_labels_itself_and_finds_its_gpus(tmp_path: Path) -> None:
    """No GPU exists on the test machines: a stand-in `nvidia-smi` on the
    PATH prints what the real one prints for one GPU."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "nvidia-smi"
    program.write_text("#!/bin/sh\necho '0, Tesla T4, 15360'\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{old_path}"
    try:
        with running_devstack(tmp_path / "nodes", 1) as handles:
            code, out = bacalao(handles[0].api_port, "node", "list", "--output", "json")
    finally:
        os.environ["PATH"] = old_path
    assert code == 0, out
    [node] = json.loads(out)
    info = node["Info"]
    assert info["Labels"]["GPU-0"] == "Tesla-T4"
    assert info["Labels"]["GPU-0-Memory"] == "15360-MiB"
    assert info["Labels"]["os_type"] == "linux"
    assert info["ComputeNodeInfo"]["MaxCapacity"]["GPU"] == 1
