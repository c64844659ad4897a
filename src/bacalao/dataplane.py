"""What input-source and publisher plugins get from the node.

`DataConfig` is the operator's settings for data (one frozen model with a
section per plugin kind that needs one), built from the node's config by
`DataConfig.from_node`. `PluginContext` is what a plugin's `build(ctx)`
receives: the settings and the node services plugins share. A plugin that
needs another service (e.g. an IPFS peer) gets a new field here, filled by
`node.py`; no plugin reads globals or the environment on its own.

`DataPlane` is the node component that owns those services (the S3 client
and its asyncio thread), builds every registered input source and
publisher, checks which work here, and closes it all when the node stops.
Its `on_moved(direction, type, bytes)` is told the bytes each input source
staged ("in") and each publisher published ("out").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import trio
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .config import NodeConfig
    from .ipfs.peer import IpfsPeer
    from .models.job import SpecConfig, Task
    from .publishers.set import Publishers
    from .s3.service import S3Service
    from .storage.sources import Sources

log = logging.getLogger(__name__)
_FROZEN = ConfigDict(frozen=True, extra="forbid")
MiB = 1024 * 1024


class UrlConfig(BaseModel):
    """Settings of the `urlDownload` input source."""

    model_config = _FROZEN

    max_bytes: int = Field(10 * 1024**3, ge=1, description="largest download")
    idle_timeout: float = Field(30.0, gt=0, description="seconds without data")
    retries: int = Field(3, ge=0, description="retries on 5xx and broken connections")
    backoff: float = Field(0.5, ge=0, description="first retry delay (doubles)")


class S3Config(BaseModel):
    """Settings of the S3 input source and publishers."""

    model_config = _FROZEN

    region: str = Field(
        "", description="default region (empty: AWS config, else us-east-1)"
    )
    endpoint: str = Field("", description="default endpoint URL (empty: AWS)")
    managed_bucket: str = Field("", description="bucket of the s3managed publisher")
    managed_prefix: str = Field(
        "bacalao/{jobID}/{executionID}/", description="key prefix of s3managed"
    )
    presign_expiry: int = Field(3600, ge=60, le=7 * 24 * 3600)
    part_size: int = Field(8 * MiB, ge=5 * MiB, description="multipart part size")
    multipart_threshold: int = Field(8 * MiB, ge=5 * MiB)
    concurrency: int = Field(8, ge=1, description="objects moved at once")
    upload_parts: int = Field(4, ge=1, description="parts of one upload in flight")


class DataConfig(BaseModel):
    """The operator's settings for input sources and publishers."""

    model_config = _FROZEN

    allowed_local_paths: tuple[str, ...] = ()
    url: UrlConfig = Field(default_factory=UrlConfig)
    s3: S3Config = Field(default_factory=S3Config)

    @classmethod
    def from_node(cls, config: NodeConfig) -> DataConfig:
        """The data settings in a node's config."""
        url: dict[str, Any] = {
            "max_bytes": config.url_max_bytes,
            "idle_timeout": config.url_idle_timeout,
            "retries": config.url_retries,
        }
        s3: dict[str, Any] = {
            "region": config.s3_region,
            "endpoint": config.s3_endpoint,
            "managed_bucket": config.s3_managed_bucket,
            "managed_prefix": config.s3_managed_prefix,
            "presign_expiry": config.s3_presign_expiry,
        }
        return cls(
            allowed_local_paths=tuple(config.allowed_local_paths),
            url=UrlConfig(**url),
            s3=S3Config(**s3),
        )


def _no_api() -> str:
    return ""


@dataclass(frozen=True)
class PluginContext:
    """What a plugin's `build(ctx)` gets: settings and node services."""

    config: DataConfig = field(default_factory=DataConfig)
    node_id: str = ""
    api_base: Callable[[], str] = _no_api  # this node's HTTP API, once it listens
    s3: S3Service | None = None  # None: S3 is not offered by this node
    ipfs: IpfsPeer | None = None  # None: IPFS is not offered by this node


class DataPlane:
    """The node's input sources and publishers and the services they share."""

    def __init__(
        self,
        config: DataConfig,
        *,
        node_id: str = "",
        api_base: Callable[[], str] = _no_api,
        ipfs: IpfsPeer | None = None,
        on_moved: Callable[[str, str, int], None] | None = None,
    ) -> None:
        self.config = config
        self._on_moved = on_moved
        self._node_id = node_id
        self._api_base = api_base
        self._ipfs = ipfs
        self._s3: S3Service | None = None
        self._sources: Sources | None = None
        self._publishers: Publishers | None = None

    @property
    def sources(self) -> Sources:
        """The input sources this node offers (once started)."""
        if self._sources is None:
            raise RuntimeError("the data plane has not started")
        return self._sources

    @property
    def publishers(self) -> Publishers:
        """The publishers this node offers (once started)."""
        if self._publishers is None:
            raise RuntimeError("the data plane has not started")
        return self._publishers

    async def run(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        try:
            await self.start()
            task_status.started()
            await trio.sleep_forever()
        finally:
            with trio.CancelScope(shield=True):
                await self.aclose()

    async def start(self) -> None:
        """Start the shared services and build the plugins that work here."""
        from .publishers.set import build_publishers
        from .s3.service import S3Service
        from .storage.sources import build_sources

        self._s3 = S3Service(self.config.s3)
        await self._s3.start()
        ctx = PluginContext(
            self.config, self._node_id, self._api_base, self._s3, self._ipfs
        )
        self._sources = await build_sources(ctx)
        self._publishers = await build_publishers(ctx)
        moved = self._on_moved
        if moved is not None:
            self._sources.on_moved = partial(moved, "in")
            self._publishers.on_moved = partial(moved, "out")

    def refusal(self, task: Task) -> str | None:
        """Why this node will not stage `task`'s inputs or publish its
        results as asked (no I/O), or None."""
        return self.sources.refusal(task.InputSources) or self.publishers.refusal(
            task.Publisher
        )

    async def aclose(self) -> None:
        if self._s3 is not None:
            await self._s3.aclose()
            self._s3 = None

    async def downloadable(self, spec: SpecConfig) -> SpecConfig:
        """A published result as something a client can download without
        credentials (an S3 result as pre-signed URLs); else unchanged."""
        from .publishers.downloads import downloadable

        if self._s3 is None:
            return spec
        return await downloadable(spec, self._s3)
