"""Executor settings of a node: which engines, output caps, engine limits.

One frozen pydantic model with a section per engine, passed explicitly to
`registry.build_executors`; the node's config embeds it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..models.job import NETWORK_TYPES
from .base import OutputLimits

_FROZEN = ConfigDict(frozen=True, extra="forbid")


# Docker's default set without NET_RAW, MKNOD, SETFCAP, SETPCAP, SYS_CHROOT,
# AUDIT_WRITE and FSETID: what ordinary images need to run as root
TASK_CAPABILITIES = (
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "KILL",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETUID",
)


class DockerConfig(BaseModel):
    """Settings of the `docker` executor."""

    model_config = _FROZEN

    host: str | None = Field(
        None, description="engine address (e.g. unix:///var/run/docker.sock); None: env"
    )
    networks: tuple[str, ...] = Field(
        ("Default", "None", "Full", "Bridge", "HTTP"),
        description="task network types this node accepts (Host is opt-in)",
    )
    http_private: bool = Field(
        False,
        description="HTTP-network tasks may reach private (RFC 1918) addresses",
    )
    images: tuple[str, ...] = Field(
        (), description="allowed image patterns (fnmatch, e.g. 'busybox:*'); empty: any"
    )
    pull: bool = Field(True, description="pull images missing locally")
    pull_timeout: float = Field(600.0, gt=0, description="seconds a pull may take")
    gpus: int = Field(0, ge=0, description="GPUs this node can give to containers")
    max_threads: int = Field(
        256, ge=3, description="worker threads for waits and log streams"
    )
    pids_limit: int = Field(
        1024, ge=0, description="processes a task may have at once (0: no limit)"
    )
    no_new_privileges: bool = Field(
        True, description="tasks cannot gain privileges (setuid binaries)"
    )
    capabilities: tuple[str, ...] = Field(
        TASK_CAPABILITIES,
        description="Linux capabilities a task keeps (all others are dropped)",
    )

    @field_validator("networks")
    @classmethod
    def _known_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [n for n in value if n not in NETWORK_TYPES]
        if unknown:
            known = ", ".join(NETWORK_TYPES)
            raise ValueError(f"unknown network type {unknown[0]!r} (one of {known})")
        return value


class WasmConfig(BaseModel):
    """Settings of the `wasm` executor."""

    model_config = _FROZEN

    module_cache: int = Field(16, ge=0, description="compiled modules kept (LRU)")
    max_threads: int = Field(64, ge=1, description="modules running at once")


class ExecutorsConfig(BaseModel):
    """Which executors a node runs and the limits they share."""

    model_config = _FROZEN

    engines: tuple[str, ...] = Field(
        ("docker", "wasm"), description="engines built when none are named"
    )
    noop_enabled: bool = Field(False, description="also build the noop engine")
    output_bytes: int = Field(
        64 * 1024, ge=0, description="bytes of stdout/stderr kept in RunOutput"
    )
    log_bytes: int = Field(
        64 * 1024**2, ge=0, description="bytes of stdout/stderr kept on disk"
    )
    allowed_local_paths: tuple[str, ...] = Field(
        (), description="host paths tasks may bind (see storage.local)"
    )
    disk_path: Path | None = Field(
        None, description="where results are written; its free space bounds Disk"
    )
    docker: DockerConfig = Field(default_factory=DockerConfig)
    wasm: WasmConfig = Field(default_factory=WasmConfig)

    @property
    def limits(self) -> OutputLimits:
        """The output caps to put in each `ExecutionRequest`."""
        return OutputLimits(output_bytes=self.output_bytes, log_bytes=self.log_bytes)

    def default_engines(self) -> tuple[str, ...]:
        """The engines to build when the caller names none."""
        if self.noop_enabled and "noop" not in self.engines:
            return (*self.engines, "noop")
        return self.engines
