"""`bacalao serve` (one node) and `bacalao devstack` (several, for trying out).

Both hand over to code that blocks until SIGINT/SIGTERM: `bacalao.process.serve`
and `bacalao.devstack.main`, imported only when the command runs. A flag
left out is not passed on, so the repo's config.yaml and BACALAO_* env
still apply (defaults < file < env < flags). Control files (swarm key,
allow-list, tokens, TLS) are read and checked before the node starts; a
node that cannot start says why in one line, naming the file at fault.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..publishers import registry as publishers
from .context import Target
from .errors import CliError

F = TypeVar("F", bound=Callable[..., Any])


def _labels(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    labels: dict[str, str] = {}
    for item in text.split(","):
        key, _, value = item.strip().partition("=")
        if key.strip():
            labels[key.strip()] = value.strip()
    return labels


def _engines(text: str | None) -> list[str] | None:
    return None if text is None else [e.strip() for e in text.split(",") if e.strip()]


def data_flags(command: F) -> F:
    """The operator's data settings, shared by `serve` and `devstack`."""
    options = [
        click.option(
            "--allow-listed-local-paths",
            "allowed_local_paths",
            multiple=True,
            metavar="GLOB[:rw]",
            help="Host paths jobs may use as local inputs (repeatable or "
            "comma-separated; :rw allows writing).",
        ),
        click.option(
            "--default-publisher",
            default=None,
            help="Publisher of jobs that name none ("
            + ", ".join(publishers.names())
            + ").",
        ),
        click.option("--s3-endpoint", default=None, help="Default S3 endpoint URL."),
        click.option("--s3-region", default=None, help="Default S3 region."),
        click.option(
            "--s3-managed-bucket",
            default=None,
            help="Bucket of the s3managed publisher (offered only when set).",
        ),
        click.option(
            "--url-max-bytes",
            type=click.IntRange(min=1),
            default=None,
            help="Largest urlDownload input this node fetches.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _data(options: dict[str, Any]) -> dict[str, Any]:
    """The data settings given as flags (left out when not given)."""
    paths = [
        p.strip()
        for item in options.get("allowed_local_paths") or ()
        for p in item.split(",")
        if p.strip()
    ]
    return {
        "allowed_local_paths": paths or None,
        "default_publisher": options.get("default_publisher"),
        "s3_endpoint": options.get("s3_endpoint"),
        "s3_region": options.get("s3_region"),
        "s3_managed_bucket": options.get("s3_managed_bucket"),
        "url_max_bytes": options.get("url_max_bytes"),
    }


def _api_address(
    ctx: click.Context, host: str | None, port: int | None
) -> dict[str, Any]:
    """serve's own --api-host/--api-port, else the global ones if given."""
    target = ctx.find_object(Target)
    if target is not None and target.explicit:
        host = host if host is not None else target.host
        port = port if port is not None else target.port
    return {"api_host": host, "api_port": port}


def _load(repo: Path, flags: dict[str, Any]) -> Any:
    """The node's config, control files read; `CliError` naming the setting
    or file at fault."""
    import yaml
    from pydantic import ValidationError

    from ..config import CONFIG_FILE, load_config
    from ..controls import resolve_controls
    from ..startup import StartupError

    try:
        return resolve_controls(load_config(repo, **flags))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CliError(
            f"invalid node setting {where}: {first['msg']}",
            f"check the flag, BACALAO_{where.upper()} and {repo}/config.yaml",
        ) from None
    except StartupError as exc:
        raise CliError(exc.problem, exc.fix) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise CliError(
            f"{repo / CONFIG_FILE} is not valid YAML ({problem}{line})",
            "fix it, or move it away to start with the defaults",
        ) from None
    except (ValueError, OSError) as exc:
        raise CliError(f"cannot load the node's config: {exc}") from None


def _run(module: str, function: str, *args: Any, **kwargs: Any) -> None:
    """Call `bacalao.<module>.<function>(*args, **kwargs)`; a `StartupError`
    becomes the one-line `CliError` it is."""
    from ..startup import StartupError

    target = getattr(importlib.import_module(f"bacalao.{module}"), function)
    try:
        target(*args, **kwargs)
    except StartupError as exc:
        raise CliError(exc.problem, exc.fix) from None


@click.command(
    epilog="""\b
Examples:
  bacalao serve
  bacalao serve --repo /var/lib/bacalao --labels region=eu,gpu=a100 --api-port 1234
  bacalao serve --peer /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW... --no-orchestrator""",
)
@click.option(
    "--repo",
    envvar="BACALAO_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default="~/.bacalao",
    show_default=True,
    help="The node's folder: identity key, config.yaml, job store, results.",
)
@click.option(
    "--peer",
    "peers",
    multiple=True,
    metavar="MULTIADDR",
    help="Peer to join (repeatable).",
)
@click.option("--swarm-host", default=None, help="Address to listen on for peers.")
@click.option(
    "--swarm-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="0: any free port.",
)
@click.option("--api-host", default=None, help="Address the HTTP API listens on.")
@click.option(
    "--api-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the HTTP API.",
)
@click.option(
    "--labels",
    default=None,
    metavar="K=V,...",
    help="Labels jobs can select this node by.",
)
@click.option(
    "--orchestrator/--no-orchestrator", default=None, help="Accept and schedule jobs."
)
@click.option("--compute/--no-compute", default=None, help="Run jobs.")
@click.option(
    "--web-ui/--no-web-ui",
    default=None,
    help="Serve the dashboard at the API's / (default: on).",
)
@click.option(
    "--allow-noop", is_flag=True, default=None, help="Offer the noop engine (testing)."
)
@click.option(
    "--engines",
    default=None,
    metavar="LIST",
    help="Engines to offer, e.g. docker,wasm.",
)
@click.option(
    "--swarm-key",
    "swarm_key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private network: talk only to nodes with this swarm.key file "
    "(make one with `bacalao swarm-key generate`).",
)
@click.option(
    "--allow-peer",
    "allow_peers",
    multiple=True,
    metavar="PEER_ID",
    help="Let only listed peers connect (repeatable).",
)
@click.option(
    "--allow-peers-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Let only the peers in FILE connect (one peer ID a line, # comments).",
)
@click.option(
    "--api-token",
    "api_tokens",
    multiple=True,
    metavar="TOKEN",
    help="Require this bearer token on the API (repeatable; "
    "env BACALAO_API_TOKENS, comma-separated).",
)
@click.option(
    "--api-tokens-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Require one of the tokens in FILE (one a line) on the API.",
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Serve the API over https with this PEM certificate (with --tls-key).",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The PEM private key of --tls-cert.",
)
@click.option(
    "--shutdown-grace",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="On SIGTERM/Ctrl+C, let requests and tasks in flight finish this long "
    "(default 10; a second signal stops at once).",
)
@data_flags
@click.pass_context
def serve(
    ctx: click.Context,
    /,
    repo: Path,
    peers: tuple[str, ...],
    swarm_host: str | None,
    swarm_port: int | None,
    api_host: str | None,
    api_port: int | None,
    labels: str | None,
    orchestrator: bool | None,
    compute: bool | None,
    web_ui: bool | None,
    allow_noop: bool | None,
    engines: str | None,
    swarm_key_file: Path | None,
    allow_peers: tuple[str, ...],
    allow_peers_file: Path | None,
    api_tokens: tuple[str, ...],
    api_tokens_file: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    shutdown_grace: float | None,
    **data: Any,
) -> None:
    """Run a node (orchestrator and compute) until Ctrl+C."""
    flags: dict[str, Any] = {
        "shutdown_grace": shutdown_grace,
        "swarm_key_file": swarm_key_file,
        "allow_peers": list(allow_peers) or None,
        "allow_peers_file": allow_peers_file,
        "api_tokens": list(api_tokens) or None,
        "api_tokens_file": api_tokens_file,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "peers": list(peers) or None,
        "swarm_host": swarm_host,
        "swarm_port": swarm_port,
        "labels": _labels(labels),
        "orchestrator": orchestrator,
        "compute": compute,
        "web_ui": web_ui,
        "allow_noop": allow_noop,
        "engines": _engines(engines),
        **_api_address(ctx, api_host, api_port),
        **_data(data),
    }
    config = _load(repo.expanduser(), flags)
    _run("process", "serve", config)


@click.command(
    epilog="""\b
Examples:
  bacalao devstack
  bacalao devstack --nodes 5 --api-port 21000 --allow-noop
  # then, in another shell:
  BACALAO_API_PORT=21000 bacalao docker run busybox -- echo hi""",
)
@click.option("--nodes", type=click.IntRange(1, 64), default=3, show_default=True)
@click.option(
    "--api-port",
    type=click.IntRange(1, 65535),
    default=1234,
    show_default=True,
    help="API port of the first node; node i listens on this + i.",
)
@click.option(
    "--repo-base",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the nodes' repos (default: a temporary folder).",
)
@click.option("--allow-noop", is_flag=True, help="Offer the noop engine on every node.")
@click.option(
    "--swarm-key",
    "swarm_key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Make the nodes a private network sharing this swarm.key file.",
)
@data_flags
def devstack(
    nodes: int,
    api_port: int,
    repo_base: Path | None,
    allow_noop: bool,
    swarm_key_file: Path | None,
    **data: Any,
) -> None:
    """Run several nodes on this machine, joined to each other, until Ctrl+C."""
    private = (
        {} if swarm_key_file is None else {"swarm_key": _read_swarm_key(swarm_key_file)}
    )
    settings = {k: v for k, v in _data(data).items() if v is not None}
    _run(
        "devstack",
        "main",
        nodes=nodes,
        api_port=api_port,
        repo_base=repo_base,
        allow_noop=allow_noop,
        **private,
        **settings,
    )


def _read_swarm_key(path: Path) -> str:
    from ..p2p.exceptions import InvalidSwarmKey
    from ..p2p.swarm_key import GENERATE_HINT, read_swarm_key

    try:
        return read_swarm_key(path.expanduser())
    except InvalidSwarmKey as exc:
        raise CliError(str(exc), GENERATE_HINT) from None


__all__ = ["devstack", "serve"]
