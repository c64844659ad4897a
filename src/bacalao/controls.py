"""Operator controls given as files, read into the settings they stand for.

`resolve_controls(config)` returns `config` with `swarm_key_file` read into
`swarm_key`, `allow_peers_file` merged into `allow_peers` and
`api_tokens_file` into `api_tokens` (the `*_file` settings then None, so a
second call does nothing), every value checked, and the TLS pair loaded
once to prove it works. Anything wrong is a `ControlFileError` naming the
file (or setting) and what to do. It reads files: call it before the trio
loop runs, or in a thread.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from .config import NodeConfig
from .startup import ControlFileError

MIN_TOKEN = 16
TOKEN_HINT = "make one with `openssl rand -hex 32`"


def resolve_controls(config: NodeConfig) -> NodeConfig:
    """`config` with its control files read and every control checked."""
    changes: dict[str, Any] = {
        "swarm_key": _swarm_key(config),
        "swarm_key_file": None,
        "allow_peers": _allow_peers(config),
        "allow_peers_file": None,
        "api_tokens": _api_tokens(config),
        "api_tokens_file": None,
    }
    _check_tls(config.tls_cert, config.tls_key)
    return config.model_copy(update=changes)


def _swarm_key(config: NodeConfig) -> str | None:
    from .p2p.exceptions import InvalidSwarmKey
    from .p2p.swarm_key import GENERATE_HINT, check_hex_key, read_swarm_key

    path = config.swarm_key_file
    try:
        inline = None if config.swarm_key is None else check_hex_key(config.swarm_key)
        from_file = None if path is None else read_swarm_key(path.expanduser())
    except InvalidSwarmKey as exc:
        where = exc.path or "swarm_key (BACALAO_SWARM_KEY)"
        raise ControlFileError(f"{where}: {exc.reason}", GENERATE_HINT) from None
    if inline is not None and from_file is not None and inline != from_file:
        raise ControlFileError(
            f"swarm_key and {path} hold different keys",
            "set only one of swarm_key (BACALAO_SWARM_KEY) and --swarm-key",
        )
    return from_file or inline


def _allow_peers(config: NodeConfig) -> list[str] | None:
    from .p2p.gate import check_peer_id, parse_peer_list

    peers: list[str] | None = None
    if config.allow_peers is not None:
        peers = []
        for peer in config.allow_peers:
            try:
                peers.append(check_peer_id(peer.strip()))
            except ValueError as exc:
                raise ControlFileError(
                    f"allow_peers: {exc}", "list peer IDs such as 12D3KooW..."
                ) from None
    path = config.allow_peers_file
    if path is not None:
        text = _read(path, "allow-list")
        try:
            listed = parse_peer_list(text)
        except ValueError as exc:
            raise ControlFileError(
                f"{path}: {exc}", "list one peer ID a line (# starts a comment)"
            ) from None
        if not listed:
            raise ControlFileError(
                f"{path} lists no peers, so this node would refuse every peer",
                "add the peer IDs of the network's nodes, one a line",
            )
        peers = [*(peers or []), *listed]
    return None if peers is None else list(dict.fromkeys(peers))


def _api_tokens(config: NodeConfig) -> list[str]:
    tokens = [t.strip() for t in config.api_tokens if t.strip()]
    for token in tokens:
        _check_token(token, "api_tokens (--api-token, BACALAO_API_TOKENS)")
    path = config.api_tokens_file
    if path is not None:
        text = _read(path, "tokens")
        lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
        listed = [line for line in lines if line]
        if not listed:
            raise ControlFileError(
                f"{path} lists no tokens, so the API would be open to anyone",
                f"add tokens, one a line ({TOKEN_HINT})",
            )
        for token in listed:
            _check_token(token, str(path))
        tokens += listed
    return list(dict.fromkeys(tokens))


def _check_token(token: str, where: str) -> None:
    if len(token) < MIN_TOKEN:
        raise ControlFileError(
            f"{where}: an API token must be at least {MIN_TOKEN} characters",
            TOKEN_HINT,
        )
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ControlFileError(
            f"{where}: an API token must be printable ASCII without spaces",
            TOKEN_HINT,
        )


def _read(path: Path, what: str) -> str:
    try:
        return path.expanduser().read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ControlFileError(
            f"cannot read the {what} file {path} ({reason})",
            "check the path and its permissions",
        ) from None


def _check_tls(cert: Path | None, key: Path | None) -> None:
    if cert is None and key is None:
        return
    if cert is None or key is None:
        raise ControlFileError(
            "TLS needs both a certificate and its key",
            "pass --tls-cert FILE and --tls-key FILE together",
        )
    for path, marker, what in (
        (cert, "CERTIFICATE-----", "a PEM certificate"),
        (key, "PRIVATE KEY-----", "a PEM private key"),
    ):
        text = _read(path, "TLS")
        if marker not in text:
            raise ControlFileError(
                f"{path} is not {what}", "give PEM files (-----BEGIN ...)"
            )
        if "ENCRYPTED" in text:
            raise ControlFileError(
                f"{path} is encrypted and the node cannot ask for its passphrase",
                f"decrypt it: openssl pkey -in {path} -out KEYFILE",
            )
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            cert.expanduser(), key.expanduser(), password=lambda: b""
        )
    except ssl.SSLError as exc:
        raise ControlFileError(
            f"the TLS key {key} does not fit the certificate {cert} ({exc.reason})",
            "give the key the certificate was made for",
        ) from None


__all__ = ["resolve_controls"]
