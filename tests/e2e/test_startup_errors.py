"""`bacalao serve` and `devstack` as processes, started on a broken repo or a
taken port: one line naming the file (or port) and the fix, exit status 1,
no traceback."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bacalao.p2p.identity import load_or_create_key
from tests.needs import missing

pytestmark = pytest.mark.e2e

BACALAO = str(Path(sys.executable).parent / "bacalao")


def run(*args: str, wrap: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACALAO_")}
    return subprocess.run(
        [*wrap, BACALAO, *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )


def serve(repo: Path, *extra: str, wrap: tuple[str, ...] = ()) -> list[str]:
    """Start `bacalao serve` (it must fail); its one error line, checked."""
    done = run(
        "serve",
        "--repo",
        str(repo),
        "--swarm-port",
        "0",
        "--api-port",
        "0",
        "--engines",
        "wasm",
        *extra,
        wrap=wrap,
    )
    return the_error(done)


def the_error(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    return errors


def used_repo(path: Path) -> Path:
    load_or_create_key(path)
    for name in ("jobs.db", "compute.db"):
        sqlite3.connect(path / name).close()
    return path


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize(
    ("name", "content", "needles"),
    [
        ("identity.key", "garbage\n", ["identity.key is not a valid identity key"]),
        ("jobs.db", "garbage" * 600, ["jobs.db is not a usable SQLite database"]),
        ("compute.db", "garbage" * 600, ["compute.db is not a usable SQLite"]),
        ("config.yaml", "labels: [unclosed\n", ["config.yaml is not valid YAML"]),
    ],
)
def test_a_corrupt_file_in_the_repo(
    tmp_path: Path, name: str, content: str, needles: list[str]
) -> None:
    repo = used_repo(tmp_path / "repo")
    (repo / name).write_text(content)
    [line] = serve(repo)
    for needle in [str(repo / name), *needles, "move it away"]:
        assert needle in line, line


def test_the_api_port_is_taken(tmp_path: Path, taken_port: int) -> None:
    [line] = serve(tmp_path / "repo", "--api-port", str(taken_port))
    assert f"cannot serve the API on 127.0.0.1:{taken_port}" in line
    assert "address already in use" in line.lower()
    assert "--api-port" in line


def test_the_swarm_port_is_taken(tmp_path: Path, taken_port: int) -> None:
    [line] = serve(tmp_path / "repo", "--swarm-port", str(taken_port))
    assert f"cannot listen for peers on 0.0.0.0:{taken_port}" in line
    assert "--swarm-port" in line


def test_an_unknown_engine(tmp_path: Path) -> None:
    [line] = serve(tmp_path / "repo", "--engines", "podman")
    assert "unknown engine 'podman'" in line
    assert "--engines" in line


def as_unprivileged() -> tuple[str, ...]:
    """A prefix that runs a command without the power to ignore file modes:
    nothing as a normal user; as root, root without CAP_DAC_OVERRIDE."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        missing("running as root and setpriv is missing: modes cannot bite")
    return (setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--")


@pytest.mark.parametrize("existing", [False, True])
def test_a_read_only_repo(tmp_path: Path, existing: bool) -> None:
    repo = used_repo(tmp_path / "repo") if existing else tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    repo.chmod(0o555)
    try:
        [line] = serve(repo, wrap=as_unprivileged())
    finally:
        repo.chmod(0o755)
    assert f"the node's repo {repo} is not writable" in line
    assert "--repo" in line


def test_devstack_api_port_taken(tmp_path: Path, taken_port: int) -> None:
    done = run(
        "devstack",
        "--nodes",
        "1",
        "--api-port",
        str(taken_port),
        "--repo-base",
        str(tmp_path),
    )
    [line] = the_error(done)
    assert f"cannot serve the API on 127.0.0.1:{taken_port}" in line
