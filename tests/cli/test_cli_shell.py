"""The CLI's shell: serve/devstack hand-over, help, imports, error lines."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import click
import pytest

from bacalao.cli.flags import GoFlagsCommand, rewrite_bool_values
from bacalao.cli.main import cli
from bacalao.config import NodeConfig

from .support import run_cli

HEAVY = ("trio", "libp2p", "docker", "pydantic", "bacalao.models.job", "bacalao.client.api")


@pytest.fixture
def fake_node(monkeypatch: pytest.MonkeyPatch) -> list[NodeConfig]:
    calls: list[NodeConfig] = []
    module = types.ModuleType("bacalao.node")
    module.serve = calls.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bacalao.node", module)
    return calls


@pytest.fixture
def fake_devstack(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("bacalao.devstack")
    module.main = lambda **kw: calls.append(kw)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bacalao.devstack", module)
    return calls


# -- serve / devstack -------------------------------------------------------


def test_serve_builds_config_from_flags(
    fake_node: list[NodeConfig], tmp_path: Path
) -> None:
    result = run_cli(
        "serve", "--repo", str(tmp_path),
        "--peer", "/ip4/1.2.3.4/tcp/1", "--peer", "/ip4/5.6.7.8/tcp/2",
        "--swarm-port", "4001", "--swarm-host", "127.0.0.1", "--api-host", "0.0.0.0",
        "--api-port", "8080", "--labels", "region=eu,gpu", "--no-orchestrator",
        "--compute", "--allow-noop", "--engines", "docker, wasm",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [config] = fake_node
    assert config.repo == tmp_path
    assert config.peers == ["/ip4/1.2.3.4/tcp/1", "/ip4/5.6.7.8/tcp/2"]
    assert (config.swarm_host, config.swarm_port) == ("127.0.0.1", 4001)
    assert (config.api_host, config.api_port) == ("0.0.0.0", 8080)
    assert config.labels == {"region": "eu", "gpu": ""}
    assert (config.orchestrator, config.compute, config.allow_noop) == (
        False,
        True,
        True,
    )
    assert config.engines == ["docker", "wasm"]


def test_serve_leaves_unset_flags_to_file_and_env(
    fake_node: list[NodeConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.yaml").write_text("api_port: 9999\nlabels: {zone: a}\n")
    monkeypatch.setenv("BACALAO_SWARM_PORT", "4100")
    result = run_cli("serve", "--repo", str(tmp_path))
    assert result.exit_code == 0, result.output
    [config] = fake_node
    assert (config.api_port, config.labels, config.swarm_port) == (
        9999,
        {"zone": "a"},
        4100,
    )
    assert (config.orchestrator, config.compute, config.allow_noop) == (
        True,
        True,
        False,
    )


def test_serve_takes_global_api_address(
    fake_node: list[NodeConfig], tmp_path: Path
) -> None:
    result = run_cli("--api-port", "7070", "serve", "--repo", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert fake_node[0].api_port == 7070


def test_serve_repo_from_env(fake_node: list[NodeConfig], tmp_path: Path) -> None:
    from click.testing import CliRunner

    result = CliRunner(env={"BACALAO_DIR": str(tmp_path)}).invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert fake_node[0].repo == tmp_path


def test_serve_bad_config_is_one_line(
    fake_node: list[NodeConfig], tmp_path: Path
) -> None:
    (tmp_path / "config.yaml").write_text("heartbeat_interval: -1\n")
    result = run_cli("serve", "--repo", str(tmp_path))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: invalid node setting heartbeat_interval")
    (tmp_path / "config.yaml").write_text("api_port: [unclosed\n")
    result = run_cli("serve", "--repo", str(tmp_path))
    assert result.stderr.startswith(f"Error: {tmp_path}/config.yaml is not valid YAML")
    assert fake_node == []


def test_devstack_hands_over(
    fake_devstack: list[dict[str, Any]], tmp_path: Path
) -> None:
    args = [
        "devstack",
        "--nodes",
        "5",
        "--api-port",
        "21000",
        "--repo-base",
        str(tmp_path),
    ]
    assert run_cli(*args, "--allow-noop").exit_code == 0
    assert run_cli("devstack").exit_code == 0
    assert fake_devstack == [
        {"nodes": 5, "api_port": 21000, "repo_base": tmp_path, "allow_noop": True},
        {"nodes": 3, "api_port": 1234, "repo_base": None, "allow_noop": False},
    ]


# -- help and imports -------------------------------------------------------


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p) or "bacalao")
def test_every_command_help_has_an_example(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.exit_code == 0
    command: Any = cli
    for name in path:
        command = command.commands[name]
    if isinstance(command, click.Group) and path:
        return  # groups list their commands; each command has examples
    assert "Examples:" in result.stdout
    assert "bacalao " in result.stdout.split("Examples:")[1]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["version", "--client"],
        ["docker", "run", "--help"],
        ["job", "run", "--help"],
        ["job", "get", "--help"],
        ["config", "--help"],
    ],
)
def test_light_commands_do_not_import_heavy_modules(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from bacalao.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_console_script_runs() -> None:
    script = Path(sys.executable).parent / "bacalao"
    result = subprocess.run(
        [str(script), "version", "--client"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "CLIENT"


def test_unknown_command_is_one_line() -> None:
    result = run_cli("frobnicate")
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "Error: No such command 'frobnicate'. (see 'bacalao --help')"
    )


def test_debug_env_shows_traceback_for_bugs(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import bacalao.cli.version as version_module

    def broken() -> dict[str, str]:
        raise KeyError("gone")

    monkeypatch.setattr(version_module, "client_version", broken)
    quiet = run_cli("version", "--client")
    assert quiet.exit_code == 1
    assert quiet.stderr.startswith("Error: unexpected KeyError: 'gone'")
    assert "Traceback" not in quiet.stderr
    loud = CliRunner(env={"BACALAO_DEBUG": "1"}).invoke(cli, ["version", "--client"])
    assert isinstance(loud.exception, KeyError)


# -- Go-style boolean flags -------------------------------------------------


@click.command(cls=GoFlagsCommand)
@click.option("--wait/--no-wait", default=True)
@click.option("--id-only", is_flag=True)
@click.option("-e", "--env", multiple=True)
@click.argument("image")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def _probe(**kwargs: Any) -> None:
    click.echo(repr(sorted(kwargs.items())))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--wait=false", "img"], ["--no-wait", "img"]),
        (["--wait=true", "img"], ["--wait", "img"]),
        (["--id-only=false", "img"], ["img"]),
        (["--id-only=1", "img"], ["--id-only", "img"]),
        (["-e", "--wait=false", "img"], ["-e", "--wait=false", "img"]),
        (["img", "--wait=false"], ["img", "--wait=false"]),
        (["--", "--wait=false"], ["--", "--wait=false"]),
    ],
)
def test_rewrite_bool_values(args: list[str], expected: list[str]) -> None:
    assert rewrite_bool_values(_probe, args) == expected


def test_go_flags_command_end_to_end() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(
        _probe, ["--wait=false", "-e", "A=1", "img", "--wait=true", "-x"]
    )
    assert result.exit_code == 0, result.output
    assert "('wait', False)" in result.stdout
    assert "('args', ('--wait=true', '-x'))" in result.stdout
