"""The `s3` publisher: the results folder uploaded to a bucket.

Params as Bacalhau's: `Bucket` (required), `Key` (a key prefix, which may
hold `{jobID}`, `{executionID}`, `{nodeID}`, `{date}` and `{time}`),
`Region`, `Endpoint`, `Compress` (bool). Uncompressed, every file of the
results keeps its path under the key (which gets a trailing `/`);
compressed, the folder goes up as one `.tar.gz` at the key (suffix added
if missing). Large files go up in parts (see `s3.transfer`).

The published result is an `s3` spec of where it went (Bucket, Key,
Region, Endpoint), usable as another job's input; `job get` downloads it
through pre-signed URLs (see `downloads`). Offered only when the node has
S3 credentials.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from ..dataplane import PluginContext, S3Config
from ..models.job import SpecConfig
from ..s3 import keys, transfer
from ..s3.errors import S3Error
from ..s3.service import S3Service, unavailable
from ..storage.base import as_bool, lower_params
from .base import ParamError, Publisher, PublishRequest
from .exceptions import PublishError


@dataclass(frozen=True)
class S3Target:
    """Where an `s3` publisher uploads, as its params say."""

    bucket: str
    key: str = ""
    region: str = ""
    endpoint: str = ""
    compress: bool = False


def parse(raw: dict[str, Any]) -> S3Target:
    """The checked params; `ValueError("Param: why")` naming the bad one."""
    params = lower_params(raw)
    values = {}
    for name in ("Bucket", "Key", "Region", "Endpoint"):
        value = params.get(name.lower()) or ""
        if not isinstance(value, str):
            raise ValueError(f"{name}: must be text (got {value!r})")
        values[name] = value.strip()
    if not values["Bucket"]:
        raise ValueError("Bucket: an s3 publisher needs the name of its bucket")
    endpoint = values["Endpoint"]
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ValueError("Endpoint: must be an http(s):// URL")
    return S3Target(
        bucket=values["Bucket"],
        key=values["Key"].lstrip("/"),
        region=values["Region"],
        endpoint=endpoint,
        compress=as_bool(params.get("compress", False)),
    )


def check_params(params: dict[str, Any]) -> ParamError | None:
    try:
        parse(params)
    except ValueError as exc:
        param, _, message = str(exc).partition(": ")
        return ParamError(param, message)
    return None


class S3Publisher:
    """Uploads results through the node's S3 service."""

    def __init__(self, s3: S3Service | None, config: S3Config) -> None:
        self._s3 = s3
        self._config = config

    async def check(self) -> str | None:
        return unavailable(self._s3)

    def refusal(self, spec: SpecConfig) -> str | None:
        problem = check_params(spec.Params)
        if problem is None:
            return None
        return f"s3 publisher: {problem.param}: {problem.message}"

    async def publish(self, request: PublishRequest) -> SpecConfig:
        try:
            target = parse(request.spec.Params)
        except ValueError as exc:
            raise PublishError(f"s3 publisher: {exc}") from None
        return await self.upload(target, request)

    async def upload(self, target: S3Target, request: PublishRequest) -> SpecConfig:
        """Upload `request`'s results to `target`; the published spec."""
        assert self._s3 is not None
        ids = keys.Ids(request.job_id, request.execution_id, request.node_id)
        now = datetime.now(UTC)
        key = keys.expand_key(target.key, ids, now, compress=target.compress)
        where = self._s3.where(target.region, target.endpoint)
        limits = transfer.Limits(
            part_size=self._config.part_size,
            multipart_threshold=self._config.multipart_threshold,
            concurrency=self._config.concurrency,
            upload_parts=self._config.upload_parts,
        )
        items = await self._items(request, key, target.compress)
        uri = f"s3://{target.bucket}/{key}"
        try:
            await self._s3.call(
                where,
                lambda client: transfer.put_many(client, items, target.bucket, limits),
                f"publishing to {uri}",
            )
        except S3Error as exc:
            raise PublishError(str(exc)) from exc
        params = {"Bucket": target.bucket, "Key": key, "Region": where.region}
        if where.endpoint:
            params["Endpoint"] = where.endpoint
        return SpecConfig(Type="s3", Params=params)

    async def _items(
        self, request: PublishRequest, key: str, compress: bool
    ) -> list[tuple[Path, str]]:
        if compress:
            archive = request.scratch / "results.tar.gz"
            await trio.to_thread.run_sync(pack, request.results_dir, archive)
            return [(archive, key)]
        files = await trio.to_thread.run_sync(transfer.tree_files, request.results_dir)
        return [(path, key + relative) for path, relative in files]


def pack(folder: Path, archive: Path) -> None:
    """`folder`'s entries at the top of a tar.gz (as `job get` unpacks it)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for entry in sorted(folder.iterdir()):
            tar.add(entry, arcname=entry.name)


def build(ctx: PluginContext) -> Publisher:
    return S3Publisher(ctx.s3, ctx.config.s3)
