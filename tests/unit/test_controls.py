"""Control files read into settings, and every bad one named with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from libp2p.crypto.ed25519 import create_new_key_pair

from bacalao.config import NodeConfig, load_config
from bacalao.controls import resolve_controls
from bacalao.p2p.identity import peer_id_of
from bacalao.p2p.swarm_key import new_swarm_key, parse_swarm_key
from bacalao.startup import ControlFileError
from tests.tls import self_signed

PEER_A = peer_id_of(create_new_key_pair(b"\x0a" * 32))
PEER_B = peer_id_of(create_new_key_pair(b"\x0b" * 32))
TOKEN = "t" * 16


def config(tmp_path: Path, **values: object) -> NodeConfig:
    return NodeConfig.model_validate({"repo": tmp_path / "repo", **values})


def test_files_are_read_into_the_settings_once(tmp_path: Path) -> None:
    key_text = new_swarm_key()
    (tmp_path / "swarm.key").write_text(key_text)
    (tmp_path / "peers").write_text(f"# ours\n{PEER_A}\n{PEER_B}\n")
    (tmp_path / "tokens").write_text(f"{TOKEN}  # ci\n{'u' * 20}\n")
    given = config(
        tmp_path,
        swarm_key_file=tmp_path / "swarm.key",
        allow_peers=[PEER_A],
        allow_peers_file=tmp_path / "peers",
        api_tokens=[TOKEN],
        api_tokens_file=tmp_path / "tokens",
    )
    resolved = resolve_controls(given)
    assert resolved.swarm_key == parse_swarm_key(key_text.encode())
    assert resolved.allow_peers == [PEER_A, PEER_B]
    assert resolved.api_tokens == [TOKEN, "u" * 20]
    assert resolved.swarm_key_file is None
    assert resolved.allow_peers_file is None
    (tmp_path / "swarm.key").unlink()  # read already: resolving again is a no-op
    assert resolve_controls(resolved) == resolved


def test_nothing_set_means_everything_open(tmp_path: Path) -> None:
    resolved = resolve_controls(config(tmp_path))
    assert resolved.swarm_key is None
    assert resolved.allow_peers is None
    assert resolved.api_tokens == []


def test_env_gives_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACALAO_API_TOKENS", f"{TOKEN},{'v' * 16}")
    monkeypatch.setenv("BACALAO_ALLOW_PEERS", f"{PEER_A},{PEER_B}")
    monkeypatch.setenv("BACALAO_API_BODY_TIMEOUT", "5")
    loaded = load_config(tmp_path / "repo")
    assert loaded.api_tokens == [TOKEN, "v" * 16]
    assert loaded.allow_peers == [PEER_A, PEER_B]
    assert loaded.api_body_timeout == 5


@pytest.mark.parametrize(
    ("files", "values", "message"),
    [
        ({"k": "nonsense"}, {"swarm_key_file": "k"}, r"/k: not a swarm key file"),
        ({}, {"swarm_key_file": "missing"}, r"/missing: cannot read it"),
        ({}, {"swarm_key": "abc"}, r"swarm_key \(BACALAO_SWARM_KEY\): .*64 hex"),
        ({"p": "# none yet\n"}, {"allow_peers_file": "p"}, r"/p lists no peers"),
        ({"p": f"{PEER_A}\nnope\n"}, {"allow_peers_file": "p"}, r"/p: line 2: 'nope'"),
        ({}, {"allow_peers": ["12D3KooWnot"]}, r"allow_peers: '12D3KooWnot'"),
        ({}, {"allow_peers_file": "gone"}, r"cannot read the allow-list file .*/gone"),
        ({"t": "\n# x\n"}, {"api_tokens_file": "t"}, r"/t lists no tokens"),
        ({"t": "short\n"}, {"api_tokens_file": "t"}, r"/t: an API token must be at"),
        ({}, {"api_tokens": ["has a space 123456"]}, r"printable ASCII without"),
        ({"c": "x"}, {"tls_cert": "c"}, r"TLS needs both a certificate and its key"),
        ({"c": "x", "k": "y"}, {"tls_cert": "c", "tls_key": "k"}, r"/c is not a PEM"),
    ],
)
def test_each_problem_names_the_file_or_setting(
    tmp_path: Path, files: dict[str, str], values: dict[str, object], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = {"swarm_key_file", "allow_peers_file", "api_tokens_file", "tls_cert"}
    settings = {
        k: tmp_path / v if k in paths | {"tls_key"} and isinstance(v, str) else v
        for k, v in values.items()
    }
    with pytest.raises(ControlFileError, match=message) as caught:
        resolve_controls(config(tmp_path, **settings))
    assert caught.value.fix  # every refusal says what to do


def test_tls_files_must_be_a_matching_pair(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "one")
    _, other_key = self_signed(tmp_path, "two")
    assert resolve_controls(config(tmp_path, tls_cert=cert, tls_key=key))
    with pytest.raises(ControlFileError, match="does not fit the certificate"):
        resolve_controls(config(tmp_path, tls_cert=cert, tls_key=other_key))
    with pytest.raises(ControlFileError, match="is not a PEM private key"):
        resolve_controls(config(tmp_path, tls_cert=cert, tls_key=cert))


def test_inline_and_file_keys_must_agree(tmp_path: Path) -> None:
    (tmp_path / "swarm.key").write_text(new_swarm_key())
    with pytest.raises(ControlFileError, match="hold different keys"):
        resolve_controls(
            config(tmp_path, swarm_key="ab" * 32, swarm_key_file=tmp_path / "swarm.key")
        )
