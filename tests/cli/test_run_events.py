"""`bacalao wasm run` follows its job on the event stream, or polls without it."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bacalao.api import app as api_app
from tests.api.fakes import FakeBackend

from .support import Live, serving

WASM = b"\x00asm\x01\x00\x00\x00"


@pytest.fixture
def module(tmp_path: Path) -> str:
    path = tmp_path / "hello.wasm"
    path.write_bytes(WASM)
    return str(path)


@pytest.fixture
def no_event_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """A node that has no event stream (as a Bacalhau node): its route is a 404."""
    monkeypatch.setattr(api_app, "event_routes", lambda backend: [])
    with serving(FakeBackend(auto_run=True)) as api:
        yield api


def state_lines(output: str) -> list[str]:
    """The job's states as the state lines (`  12:00:01  job   Running`) say."""
    found = re.findall(r"^  \d\d:\d\d:\d\d  job +(\w+)", output, re.MULTILINE)
    return list(found)


def test_wasm_run_prints_each_state_and_ends_with_the_job(
    live: Live, module: str
) -> None:
    result = live("wasm", "run", module)
    assert result.exit_code == 0, result.output
    assert state_lines(result.stdout) == ["Pending", "Running", "Completed"]
    assert " Completed  on " in result.stdout  # the execution's line
    assert "\nJob Completed." in result.stdout
    assert "Standard Output:\nran wasm\n" in result.stdout
    assert live.backend.get_calls == 1  # the stream's first event; no polling


def test_wasm_run_fails_when_its_job_fails(live: Live, module: str) -> None:
    live.backend.failure = "the module trapped"
    result = live("wasm", "run", module)
    assert result.exit_code == 1
    assert state_lines(result.stdout) == ["Pending", "Running", "Failed"]
    assert "the module trapped" in result.stderr


def test_wasm_run_polls_a_node_without_the_event_stream(
    no_event_stream: Live, module: str
) -> None:
    result = no_event_stream("wasm", "run", module)
    assert result.exit_code == 0, result.output
    assert state_lines(result.stdout) == ["Pending", "Running", "Completed"]
    assert "Standard Output:\nran wasm\n" in result.stdout
    assert no_event_stream.backend.get_calls >= 3  # one poll per step


def test_wasm_run_imports_no_models(live: Live, module: str) -> None:
    """The run path reads plain JSON: pydantic stays out of a run that works."""
    code = (
        "import sys\n"
        "from bacalao.cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('pydantic', 'bacalao.models.job', 'bacalao.models.api')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    argv = ["--api-port", str(live.port), "wasm", "run", module]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Job Completed." in done.stdout
    assert done.stdout.splitlines()[-1] == "[]"
