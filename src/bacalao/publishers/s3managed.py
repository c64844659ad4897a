"""The `s3managed` publisher: results go to the operator's own bucket.

No params: the bucket, key prefix, region and endpoint are the node's
settings (`s3_managed_bucket`, `s3_managed_prefix`, `s3_region`,
`s3_endpoint`), so users need not know them. Uploads are uncompressed,
as with `s3` (see there); the published result is the same `s3` spec, so
`job get` works the same. Offered only when the operator set a bucket
and the node has S3 credentials.
"""

from __future__ import annotations

from typing import Any

from ..dataplane import PluginContext, S3Config
from ..models.job import SpecConfig
from ..s3.service import S3Service
from .base import ParamError, Publisher, PublishRequest
from .s3 import S3Publisher, S3Target


def check_params(params: dict[str, Any]) -> ParamError | None:
    return None


class ManagedS3Publisher:
    """The `s3` publisher, aimed at the operator's bucket."""

    def __init__(self, s3: S3Service | None, config: S3Config) -> None:
        self._inner = S3Publisher(s3, config)
        self._target = S3Target(
            bucket=config.managed_bucket,
            key=config.managed_prefix,
            region=config.region,
            endpoint=config.endpoint,
        )

    async def check(self) -> str | None:
        if not self._target.bucket:
            return "the operator set no bucket (s3_managed_bucket)"
        return await self._inner.check()

    def refusal(self, spec: SpecConfig) -> str | None:
        return None

    async def publish(self, request: PublishRequest) -> SpecConfig:
        return await self._inner.upload(self._target, request)


def build(ctx: PluginContext) -> Publisher:
    return ManagedS3Publisher(ctx.s3, ctx.config.s3)
