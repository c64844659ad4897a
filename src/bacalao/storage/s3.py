"""The `s3` input source: an object, a prefix, or a filtered prefix.

Params as Bacalhau's: `Bucket` (required), `Key` (an object; a prefix when
it ends in `/` or `*`; empty for the whole bucket), `Filter` (a regex a
key under the prefix must contain a match of), `Region`, `Endpoint`,
`VersionID` (of a single object), `ChecksumSHA256` (of a single object:
64 hex digits or base64; the download is checked against it).

The objects are downloaded into the input's folder before the task starts,
keeping the tree under the prefix (a single object lands under its own
name), and the folder is shown read-only at the target. Offered only when
the node has S3 credentials (see `s3.service`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..dataplane import PluginContext, S3Config
from ..models.job import InputSource
from ..s3 import keys, transfer
from ..s3.errors import S3Error
from ..s3.service import S3Service, unavailable
from .base import InputSourcePlugin, ParamError, StagedInput, lower_params
from .exceptions import StorageError


@dataclass(frozen=True)
class S3Source:
    """The params of an `s3` input source, checked."""

    bucket: str
    key: str
    region: str = ""
    endpoint: str = ""
    version_id: str = ""
    checksum: bytes | None = None
    filter: re.Pattern[str] | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class BadParams(ValueError):
    """The source's params are wrong (`.error` says which one)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.error = ParamError(param, message)


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name.lower(), "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadParams(name, f"must be text (got {value!r})")
    return value.strip()


def parse(raw: dict[str, Any]) -> S3Source:
    """The checked params of an s3 source; `BadParams` naming the bad one."""
    params = lower_params(raw)
    bucket = _text(params, "Bucket")
    if not bucket:
        raise BadParams("Bucket", "an s3 source needs the name of its bucket")
    key = _text(params, "Key").lstrip("/")
    endpoint = _text(params, "Endpoint")
    version_id = _text(params, "VersionID")
    checksum = _text(params, "ChecksumSHA256")
    pattern = _text(params, "Filter")
    try:
        digest = keys.parse_checksum(checksum) if checksum else None
    except ValueError as exc:
        raise BadParams("ChecksumSHA256", str(exc)) from None
    try:
        compiled = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise BadParams("Filter", f"not a regular expression: {exc}") from None
    if not keys.selection(key).single and (digest is not None or version_id):
        what = "ChecksumSHA256" if digest is not None else "VersionID"
        raise BadParams(what, "applies to a single object, not to a prefix")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise BadParams("Endpoint", "must be an http(s):// URL")
    return S3Source(
        bucket=bucket,
        key=key,
        region=_text(params, "Region"),
        endpoint=endpoint,
        version_id=version_id,
        checksum=digest,
        filter=compiled,
    )


def check_params(params: dict[str, Any]) -> ParamError | None:
    try:
        parse(params)
    except BadParams as exc:
        return exc.error
    return None


class S3InputSource:
    """Downloads objects through the node's S3 service."""

    def __init__(self, s3: S3Service | None, config: S3Config) -> None:
        self._s3 = s3
        self._config = config

    async def check(self) -> str | None:
        return unavailable(self._s3)

    def refusal(self, source: InputSource) -> str | None:
        problem = check_params(source.Source.Params)
        if problem is None:
            return None
        return f"s3 input {source.Target}: {problem.param}: {problem.message}"

    async def stage(self, source: InputSource, dest: Path) -> StagedInput:
        try:
            spec = parse(source.Source.Params)
        except BadParams as exc:
            raise StorageError(f"s3 input {source.Target}: {exc}") from None
        try:
            await self._download(spec, dest)
        except S3Error as exc:
            raise StorageError(f"input {exc} (for {source.Target})") from exc
        return StagedInput(host_path=dest, target=source.Target, read_only=True)

    async def _download(self, spec: S3Source, dest: Path) -> None:
        assert self._s3 is not None
        where = self._s3.where(spec.region, spec.endpoint)
        chosen = keys.selection(spec.key)
        if chosen.single:
            path = dest / _relative(spec.key, chosen.base, spec.uri)

            async def one(client: Any) -> int:
                return await transfer.get_to_file(
                    client,
                    spec.bucket,
                    spec.key,
                    path,
                    version_id=spec.version_id,
                    sha256=spec.checksum,
                )

            await self._s3.call(where, one, spec.uri)
            return
        found = await self._s3.call(
            where,
            lambda client: transfer.list_objects(client, spec.bucket, chosen.prefix),
            spec.uri,
        )
        items = _plan(found, chosen.base, spec, dest)
        if not items:
            raise S3Error(f"{spec.uri}: no objects under this prefix match")
        concurrency = self._config.concurrency
        await self._s3.call(
            where,
            lambda client: transfer.get_many(client, items, spec.bucket, concurrency),
            spec.uri,
        )


def _relative(key: str, base: str, uri: str) -> str:
    try:
        relative = keys.relative(key, base)
    except ValueError as exc:
        raise S3Error(f"{uri}: {exc}") from None
    if relative is None:
        raise S3Error(f"{uri}: {key!r} is a folder marker, not an object")
    return relative


def _plan(
    found: list[tuple[str, int]], base: str, spec: S3Source, dest: Path
) -> list[tuple[str, Path]]:
    """(key, file) for each object to download: folder markers and keys
    the filter drops are left out; a key unfit for a path fails it all."""
    items = []
    for key, _size in found:
        if not keys.matches(spec.filter, key) or key.endswith("/"):
            continue
        items.append((key, dest / _relative(key, base, spec.uri)))
    return items


def build(ctx: PluginContext) -> InputSourcePlugin:
    return S3InputSource(ctx.s3, ctx.config.s3)
