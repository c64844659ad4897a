"""Node configuration: one pydantic model, filled defaults < file < env < flags.

The config file is YAML in the node's repo directory (`config.yaml`), with
the same keys as the model below (and as the `serve` flags). Environment
variables `BACALAO_<KEY>` override it, and command-line flags override both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_API_PORT = 1234
DEFAULT_REPO = "~/.bacalao"
CONFIG_FILE = "config.yaml"


class NodeConfig(BaseModel):
    """Everything a node needs to start."""

    model_config = ConfigDict(extra="forbid")

    repo: Path = Field(default_factory=lambda: Path(DEFAULT_REPO).expanduser())
    # network
    peers: list[str] | None = None  # None: use bootstrap-peers.txt
    swarm_host: str = "0.0.0.0"
    swarm_port: int = Field(1235, ge=0, le=65535)
    swarm_key: str | None = None
    # http api
    api_host: str = "127.0.0.1"
    api_port: int = Field(DEFAULT_API_PORT, ge=0, le=65535)
    web_ui: bool = True  # the dashboard at the API's / (bacalao.web)
    # roles
    orchestrator: bool = True
    compute: bool = True
    labels: dict[str, str] = Field(default_factory=dict)
    # compute
    engines: list[str] | None = None  # None: every engine that works here
    allow_noop: bool = False
    max_cpu: float | None = None  # None: cores of this machine
    max_memory: int | None = None  # bytes; None: 80% of this machine's memory
    max_disk: int | None = None
    default_cpu: str = "500m"
    default_memory: str = "512Mb"
    default_execution_timeout: int = Field(30 * 60, ge=1)
    max_queued: int = Field(16, ge=0)
    docker_network_modes: list[str] = Field(default_factory=lambda: ["None", "Default"])
    allowed_images: list[str] | None = None
    # host paths `local` inputs may use: globs, `:rw` to allow writing
    allowed_local_paths: list[str] = Field(default_factory=list)
    # GPUs docker tasks may ask for; None: as many as nvidia-smi lists
    gpus: int | None = Field(None, ge=0)
    # docker task sandbox: processes at once (0: no limit), the capabilities
    # a task keeps (None: a reduced default set), no-new-privileges
    docker_pids_limit: int = Field(1024, ge=0)
    docker_capabilities: list[str] | None = None
    docker_no_new_privileges: bool = True
    # HTTP-network tasks may reach private (RFC 1918) addresses via the proxy
    http_private_addresses: bool = False
    output_cap_bytes: int = Field(64 * 1024, ge=1024)  # of stdout/stderr in RunOutput
    log_cap_bytes: int = Field(64 * 1024**2, ge=1024)  # of stdout/stderr on disk
    # orchestration
    queue_timeout: float = Field(60.0, ge=0)
    # a queued job tries to be placed again after 1 s, then doubling up to:
    queue_retry_max: float = Field(8.0, gt=0)
    node_timeout: float = Field(5.0, gt=0)
    heartbeat_interval: float = Field(1.0, gt=0)
    node_info_interval: float = Field(10.0, gt=0)
    bid_timeout: float = Field(5.0, gt=0)
    # a compute node names the executions it holds to their requester this
    # often; a requester fails one not named for `execution_lease_timeout`
    execution_lease_interval: float = Field(10.0, gt=0)
    execution_lease_timeout: float = Field(45.0, gt=0)
    # orchestrator: nodes heard of for the first time are used at once
    # ("auto") or only once an operator approves them ("manual")
    node_approval: Literal["auto", "manual"] = "auto"
    # compute: take work only from these requester peer IDs (empty: any)
    allowed_requesters: list[str] = Field(default_factory=list)
    log_level: str = "INFO"
    # IPFS: peers outside the swarm to fetch from (multiaddrs with /p2p/ID),
    # and how long a fetch may go without receiving a block
    ipfs_peers: list[str] = Field(default_factory=list)
    ipfs_fetch_timeout: float = Field(30.0, gt=0)
    # operator controls (README: "Operating a network safely"); files are read
    # by `bacalao.controls.resolve_controls` into the values they stand for
    swarm_key_file: Path | None = None  # a swarm.key file (go-libp2p/Kubo format)
    allow_peers: list[str] | None = None  # None: any peer may connect
    allow_peers_file: Path | None = None  # one peer ID a line, # comments
    api_tokens: list[str] = Field(default_factory=list)  # none: the API is open
    api_tokens_file: Path | None = None  # one token a line, # comments
    tls_cert: Path | None = None  # PEM certificate (chain): the API speaks https
    tls_key: Path | None = None  # its PEM private key
    api_body_timeout: float = Field(30.0, gt=0)  # s a request body may stall
    # s a stopping node lets API requests and executions in flight finish
    shutdown_grace: float = Field(10.0, ge=0)
    # data: input sources and publishers (see dataplane.py)
    default_publisher: str = "ipfs"  # for jobs that name none; "" publishes nothing
    url_max_bytes: int = Field(10 * 1024**3, ge=1)  # largest urlDownload input
    url_idle_timeout: float = Field(30.0, gt=0)  # seconds a download may stall
    url_retries: int = Field(3, ge=0)  # on 5xx and broken connections
    s3_region: str = ""  # default region (empty: AWS config, else us-east-1)
    s3_endpoint: str = ""  # default endpoint URL (empty: AWS)
    s3_managed_bucket: str = ""  # the s3managed publisher's bucket (empty: off)
    s3_managed_prefix: str = "bacalao/{jobID}/{executionID}/"
    s3_presign_expiry: int = Field(3600, ge=60, le=7 * 24 * 3600)  # job get URLs

    @field_validator("default_publisher")
    @classmethod
    def _known_publisher(cls, value: str) -> str:
        from .publishers import registry

        if value and value not in registry.names():
            known = ", ".join(registry.names())
            raise ValueError(f"unknown publisher {value!r} (one of {known})")
        return value

    def with_overrides(self, **overrides: Any) -> NodeConfig:
        values = self.model_dump()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return NodeConfig.model_validate(values)


REDACTED = "********"
# settings whose values are secrets; so is any whose name says so (_SECRET_WORDS)
SECRET_SETTINGS = frozenset({"api_tokens", "swarm_key"})
_SECRET_WORDS = ("token", "secret", "password", "private_key", "access_key")


def is_secret(name: str) -> bool:
    """Whether the setting `name` holds a secret (a file *path* is not one)."""
    if name.endswith(("_file", "_cert")) or name == "tls_key":
        return False
    return name in SECRET_SETTINGS or any(w in name for w in _SECRET_WORDS)


def redacted(config: NodeConfig) -> dict[str, Any]:
    """The settings as JSON data, each secret masked as Bacalhau masks them
    (a list keeps its length; an unset secret stays unset)."""
    values: dict[str, Any] = config.model_dump(mode="json")
    for name, value in values.items():
        if not is_secret(name) or value in (None, "", []):
            continue
        values[name] = [REDACTED] * len(value) if isinstance(value, list) else REDACTED
    return values


def load_config(repo: Path, **flags: Any) -> NodeConfig:
    """Defaults, then `repo/config.yaml`, then BACALAO_* env, then `flags`."""
    import yaml

    values: dict[str, Any] = {}
    path = repo / CONFIG_FILE
    if path.exists():
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping of config keys")
        values.update({k.replace("-", "_"): v for k, v in loaded.items()})
    for name in NodeConfig.model_fields:
        env = os.environ.get(f"BACALAO_{name.upper()}")
        if env is not None and name not in ("repo",):
            values[name] = _from_env(name, env)
    values.update({k: v for k, v in flags.items() if v is not None})
    values["repo"] = repo
    return NodeConfig.model_validate(values)


def _from_env(name: str, text: str) -> Any:
    field = NodeConfig.model_fields[name]
    if field.annotation in (list[str], list[str] | None):
        return [t for t in text.split(",") if t]
    if field.annotation == dict[str, str]:
        return parse_labels(text)
    return text


def parse_labels(text: str) -> dict[str, str]:
    """Parse "k=v,k2=v2" into a dict; a bare key gets an empty value."""
    labels: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition("=")
        labels[key.strip()] = value.strip()
    return labels


def default_bootstrap_peers(start: Path | None = None) -> list[str]:
    """Entries of bootstrap-peers.txt (one multiaddr a line, # comments)."""
    here = start or Path(__file__).resolve()
    for folder in [Path.cwd(), *here.parents]:
        path = folder / "bootstrap-peers.txt"
        if path.exists():
            lines = (
                line.split("#", 1)[0].strip() for line in path.read_text().splitlines()
            )
            return [line for line in lines if line]
    return []
