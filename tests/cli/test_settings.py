"""Where the CLI finds its node (BACALAO_* env, else Bacalhau's BACALHAU_*,
`--api-host` as a URL) and `bacalao agent config`: the node's settings with
every secret masked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bacalao.config import REDACTED, NodeConfig, is_secret, redacted
from tests.api.fakes import NODE_ID

from .support import Live, run_cli, running_devstack


def node_id_via(env: dict[str, str], *args: str) -> str:
    result = run_cli(*args, "id", "--output", "json", env=env)
    assert result.exit_code == 0, result.output
    node: str = json.loads(result.stdout)["ID"]
    return node


def test_bacalhau_api_port_is_honoured(live: Live) -> None:
    env = {"BACALHAU_API_PORT": str(live.port)}
    assert node_id_via(env) == NODE_ID


def test_bacalhau_api_host_is_honoured_and_may_be_a_url(live: Live) -> None:
    env = {"BACALHAU_API_HOST": "127.0.0.1", "BACALHAU_API_PORT": str(live.port)}
    assert node_id_via(env) == NODE_ID
    url = {"BACALHAU_API_HOST": f"http://127.0.0.1:{live.port}"}
    assert node_id_via(url) == NODE_ID


def test_bacalao_settings_win_over_bacalhau_ones(live: Live) -> None:
    env = {"BACALAO_API_PORT": str(live.port), "BACALHAU_API_PORT": "1"}
    assert node_id_via(env) == NODE_ID
    wrong = run_cli("id", env={"BACALAO_API_PORT": "1", "BACALHAU_API_PORT": "9"})
    assert "http://127.0.0.1:1" in wrong.stderr


def test_the_flag_wins_over_both(live: Live) -> None:
    env = {"BACALAO_API_PORT": "1", "BACALHAU_API_PORT": "2"}
    assert node_id_via(env, "--api-port", str(live.port)) == NODE_ID


@pytest.mark.parametrize("where", ["root", "command"])
def test_api_host_takes_a_url(live: Live, where: str) -> None:
    url = f"http://127.0.0.1:{live.port}"
    args = ["--api-host", url, "id"] if where == "root" else ["id", "--api-host", url]
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert NODE_ID in result.stdout


def test_agent_config_yaml_masks_secrets(live: Live) -> None:
    result = live("agent", "config")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.stdout)
    assert config["api_tokens"] == [REDACTED, REDACTED]
    assert config["swarm_key"] == REDACTED
    assert config["labels"] == {"region": "eu"}
    assert "t0ken" not in result.stdout


def test_agent_config_json(live: Live) -> None:
    result = live("agent", "config", "--output", "json")
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout)["repo"] == "/fake/repo"
    pretty = live("agent", "config", "--output", "json", "--pretty")
    assert json.loads(pretty.stdout) == json.loads(result.stdout)


def test_agent_config_of_a_real_node(tmp_path: Path) -> None:
    with running_devstack(
        tmp_path, 1, api_tokens=["s3cret-token-0123456789"]
    ) as handles:
        port = str(handles[0].api_port)
        result = run_cli(
            "--api-port",
            port,
            "--api-token",
            "s3cret-token-0123456789",
            "agent",
            "config",
        )
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.stdout)
    assert config["api_tokens"] == [REDACTED]
    assert config["allow_noop"] is True  # as running_devstack configured it
    assert "s3cret-token-0123456789" not in result.stdout


def test_which_settings_are_secret() -> None:
    assert is_secret("api_tokens")
    assert is_secret("swarm_key")
    assert is_secret("s3_secret_access_key")  # a future S3 secret
    for name in ("api_tokens_file", "swarm_key_file", "tls_key", "tls_cert", "repo"):
        assert not is_secret(name), name
    public = [n for n in NodeConfig.model_fields if is_secret(n)]
    assert sorted(public) == ["api_tokens", "swarm_key"]


def test_unset_secrets_stay_unset() -> None:
    values = redacted(NodeConfig(repo=Path("/r")))
    assert (values["api_tokens"], values["swarm_key"]) == ([], None)
