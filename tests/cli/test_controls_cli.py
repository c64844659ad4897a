"""The CLI and operator controls: swarm-key generate, API tokens and https,
and serve refusing bad control files in one line before anything starts."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bacalao.api.app import ApiOptions
from bacalao.cli.main import cli
from bacalao.p2p.swarm_key import parse_swarm_key
from tests.api.fakes import NODE_ID, FakeBackend
from tests.tls import self_signed

from .support import CLEAN_ENV, Live, run_cli, serving
from .test_more_commands import one_error_line

TOKEN = "cli-test-token-0123456789"


def run_with_env(env: dict[str, str], *args: str) -> Result:
    runner = CliRunner(env={**CLEAN_ENV, **env})
    return runner.invoke(cli, list(args), prog_name="bacalao")


# -- swarm-key generate ----------------------------------------------------------


def test_swarm_key_generate_prints_a_key() -> None:
    result = run_cli("swarm-key", "generate")
    assert result.exit_code == 0, result.output
    assert len(parse_swarm_key(result.stdout.encode())) == 64


def test_swarm_key_generate_writes_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "swarm.key"
    result = run_cli("swarm-key", "generate", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"--swarm-key {path}" in result.stderr
    first = path.read_text()
    again = run_cli("swarm-key", "generate", "-o", str(path))
    assert again.exit_code == 1
    one_error_line(again.stderr, "already exists", "delete it first")
    assert path.read_text() == first


# -- API tokens --------------------------------------------------------------------


@pytest.fixture
def guarded() -> Iterator[Live]:
    with serving(FakeBackend(), ApiOptions(tokens=(TOKEN,))) as api:
        yield api


def test_a_missing_token_is_one_line_with_the_flag_to_use(guarded: Live) -> None:
    result = guarded("agent", "node")
    assert result.exit_code == 1
    one_error_line(
        result.stderr, "requires a token", "--api-token", "BACALAO_API_TOKEN"
    )
    wrong = guarded("--api-token", "not-the-token-0000", "agent", "node")
    one_error_line(wrong.stderr, "was not accepted", "--api-token")


def test_the_token_from_the_flag_or_the_env_is_sent(guarded: Live) -> None:
    port = str(guarded.port)
    flag = run_cli("--api-port", port, "--api-token", TOKEN, "id", "--output", "json")
    assert flag.exit_code == 0, flag.output
    assert json.loads(flag.stdout)["ID"] == NODE_ID
    env = run_with_env({"BACALAO_API_TOKEN": TOKEN}, "--api-port", port, "id")
    assert env.exit_code == 0, env.output
    assert guarded("agent", "alive").exit_code == 0  # health checks need none


def test_agent_debug_prints_the_nodes_counters(guarded: Live) -> None:
    result = guarded("--api-token", TOKEN, "agent", "debug", "--output", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fake"]["jobs"] == 0


# -- https -----------------------------------------------------------------------------


@pytest.fixture
def secure(tmp_path: Path) -> Iterator[tuple[Live, Path]]:
    cert, key = self_signed(tmp_path)
    options = ApiOptions(tokens=(TOKEN,), tls_cert=cert, tls_key=key)
    with serving(FakeBackend(), options) as api:
        yield api, cert


def test_https_address_with_a_trusted_certificate(secure: tuple[Live, Path]) -> None:
    api, cert = secure
    url = f"https://127.0.0.1:{api.port}"
    result = run_cli(
        "--api-host", url, "--cacert", str(cert), "--api-token", TOKEN, "id"
    )
    assert result.exit_code == 0, result.output
    env = {"BACALAO_CACERT": str(cert), "BACALAO_API_TOKEN": TOKEN}
    by_flag = run_with_env(env, "--api-port", str(api.port), "--tls", "id")
    assert by_flag.exit_code == 0, by_flag.output


def test_https_failures_are_one_line_with_the_fix(secure: tuple[Live, Path]) -> None:
    api, _ = secure
    port = str(api.port)
    untrusted = run_cli("--api-port", port, "--tls", "agent", "alive")
    one_error_line(untrusted.stderr, "not trusted", "--cacert", "--insecure")
    plain = run_cli("--api-port", port, "agent", "alive")
    one_error_line(plain.stderr, "hung up", "--tls")
    insecure = run_cli("--api-port", port, "--tls", "--insecure", "agent", "alive")
    assert insecure.exit_code == 0, insecure.output


def test_a_bad_api_address_is_a_usage_error() -> None:
    result = run_cli("--api-host", "ftp://example.com", "agent", "alive")
    assert result.exit_code == 2
    one_error_line(result.stderr, "not an http:// or https:// address")


# -- serve refuses bad control files before starting --------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--swarm-key", "{tmp}/absent.key"], ["absent.key: cannot read it"]),
        (["--swarm-key", "{tmp}/junk"], ["junk: not a swarm key file", "generate"]),
        (["--allow-peer", "bogus"], ["'bogus' is not a peer ID"]),
        (["--allow-peers-file", "{tmp}/junk"], ["junk: line 1:"]),
        (["--api-token", "short"], ["at least 16 characters"]),
        (["--tls-cert", "{tmp}/junk"], ["TLS needs both", "--tls-key"]),
    ],
)
def test_serve_names_the_bad_control_and_starts_nothing(
    tmp_path: Path, args: list[str], needles: list[str]
) -> None:
    (tmp_path / "junk").write_text("junk\n")
    repo = tmp_path / "repo"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = run_cli("serve", "--repo", str(repo), *argv)
    assert result.exit_code == 1
    one_error_line(result.stderr, *needles)
    assert not (repo / "identity.key").exists()  # the node never started


def test_devstack_refuses_a_bad_swarm_key_file(tmp_path: Path) -> None:
    (tmp_path / "junk").write_text("junk\n")
    result = run_cli("devstack", "--swarm-key", str(tmp_path / "junk"))
    assert result.exit_code == 1
    one_error_line(result.stderr, "not a swarm key file", "swarm-key generate")
