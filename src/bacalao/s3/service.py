"""The node's S3 client: credentials, clients per endpoint, translated errors.

    s3 = S3Service(S3Config(endpoint="http://127.0.0.1:5000"))
    await s3.start()                        # finds credentials (worker thread)
    where = s3.where(region="", endpoint="")   # the node's defaults filled in
    size = await s3.call(where, lambda c: transfer.head(c, "bkt", "key"), "s3://bkt/key")
    await s3.aclose()

Credentials are found the way AWS tools find them (environment, the shared
credentials and config files, `AWS_PROFILE`), except instance and
container roles, which are out of reach here and would cost a metadata
lookup at every start. Without credentials `problem` says so, and the
node offers no S3 source or publisher.

Every call runs on the asyncio thread (`loop.AsyncioThread`); clients are
kept open per (region, endpoint) so connections are reused; botocore's
errors come back as `S3Error("<what>: <reason>")`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import trio

from ..dataplane import S3Config
from .errors import S3Error, explain
from .loop import AsyncioThread, LoopClosed

T = TypeVar("T")
DEFAULT_REGION = "us-east-1"
_UNREACHABLE_PROVIDERS = ("container-role", "iam-role")


@dataclass(frozen=True)
class Where:
    """Which S3 a call goes to: a region and an endpoint ("" for AWS)."""

    region: str
    endpoint: str


@dataclass(frozen=True)
class _Found:
    access_key: str
    secret_key: str
    token: str | None
    region: str


def find_credentials() -> _Found | None:
    """Credentials and region as AWS tools find them (no instance roles).

    Blocking (it may read files): call it in a worker thread.
    """
    import botocore.session

    session = botocore.session.Session()
    resolver = session.get_component("credential_provider")
    for name in _UNREACHABLE_PROVIDERS:
        resolver.remove(name)
    credentials = session.get_credentials()
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    region = session.get_config_variable("region") or ""
    return _Found(frozen.access_key, frozen.secret_key, frozen.token, region)


class S3Service:
    """S3 calls from trio, made by aioboto3 on an asyncio thread."""

    def __init__(self, config: S3Config | None = None) -> None:
        self.config = config or S3Config()
        self.problem: str | None = "not started"
        self._found: _Found | None = None
        self._loop = AsyncioThread("bacalao-s3")
        self._clients: dict[Where, Any] = {}
        self._stack: AsyncExitStack | None = None

    async def start(self) -> None:
        """Find credentials; start the asyncio thread if there are some."""
        self._found = await trio.to_thread.run_sync(find_credentials)
        if self._found is None:
            self.problem = (
                "no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or AWS_PROFILE with ~/.aws/credentials)"
            )
            return
        self._loop.start()
        self.problem = None

    async def aclose(self) -> None:
        if self._loop.running:
            with suppress(LoopClosed):
                await self._loop.run(self._close_clients)
            await trio.to_thread.run_sync(self._loop.close)
        self.problem = "stopped"

    def where(self, region: str = "", endpoint: str = "") -> Where:
        """A call's target: the given region and endpoint, else the node's."""
        found_region = self._found.region if self._found else ""
        return Where(
            region=region or self.config.region or found_region or DEFAULT_REGION,
            endpoint=endpoint or self.config.endpoint,
        )

    async def call(
        self, where: Where, op: Callable[[Any], Awaitable[T]], what: str
    ) -> T:
        """`await op(client)` on the asyncio thread; `S3Error("what: why")`."""
        if self.problem is not None:
            raise S3Error(f"{what}: S3 is not available on this node: {self.problem}")

        async def go() -> T:
            client = await self._client(where)
            return await op(client)

        try:
            return await self._loop.run(go)
        except S3Error as exc:
            raise S3Error(f"{what}: {exc}") from exc
        except LoopClosed as exc:
            raise S3Error(f"{what}: the node is stopping") from exc
        except Exception as exc:
            if not _is_boto_error(exc):
                raise
            raise S3Error(f"{what}: {explain(exc)}") from exc

    async def presign(self, where: Where, bucket: str, key: str) -> str:
        """A URL anyone may GET `key` with, until `presign_expiry` passes."""
        expiry = self.config.presign_expiry

        async def sign(client: Any) -> str:
            url: str = await client.generate_presigned_url(
                "get_object",
                Params={"Bucket": bucket, "Key": key},
                ExpiresIn=expiry,
            )
            return url

        return await self.call(where, sign, f"signing s3://{bucket}/{key}")

    async def _client(self, where: Where) -> Any:
        """The open client for `where` (runs on the asyncio thread)."""
        client = self._clients.get(where)
        if client is None:
            if self._stack is None:
                self._stack = AsyncExitStack()
            client = await self._stack.enter_async_context(self._new_client(where))
            self._clients[where] = client
        return client

    def _new_client(self, where: Where) -> Any:
        import aioboto3
        from aiobotocore.config import AioConfig

        found = self._found
        assert found is not None
        session = aioboto3.Session(
            aws_access_key_id=found.access_key,
            aws_secret_access_key=found.secret_key,
            aws_session_token=found.token,
            region_name=where.region,
        )
        config = AioConfig(
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=max(10, 2 * self.config.concurrency),
            s3={"addressing_style": "path" if where.endpoint else "auto"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return session.client("s3", endpoint_url=where.endpoint or None, config=config)

    async def _close_clients(self) -> None:
        stack, self._stack = self._stack, None
        self._clients.clear()
        if stack is not None:
            await stack.aclose()


def _is_boto_error(exc: BaseException) -> bool:
    import asyncio

    import aiohttp
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(
        exc, BotoCoreError | ClientError | aiohttp.ClientError | asyncio.TimeoutError
    )


def unavailable(s3: S3Service | None) -> str | None:
    """Why a node cannot use S3 (no service, or no credentials), or None."""
    if s3 is None:
        return "no S3 service on this node"
    return s3.problem
