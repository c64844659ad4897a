"""Moving objects between S3 and files, on the asyncio thread.

Every function here is a coroutine for `S3Service.call` (it gets the open
aiobotocore client) and runs on the S3 asyncio thread, never on trio's:
there, plain file reads and writes are allowed (they block only S3 work).

Memory stays flat whatever the size: a GET streams to its file in 1 MiB
reads; a PUT sends its file (above `multipart_threshold`: `part_size`
parts of it, `upload_parts` at once) through a `PartFile` view that
botocore hashes and aiohttp sends in small reads; many objects move
`concurrency` at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from .errors import S3Error

T = TypeVar("T")
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How an upload or a batch of transfers is cut up."""

    part_size: int = 8 * CHUNK
    multipart_threshold: int = 8 * CHUNK
    concurrency: int = 8
    upload_parts: int = 4


async def list_objects(client: Any, bucket: str, prefix: str) -> list[tuple[str, int]]:
    """Every (key, size) under `prefix`, in key order."""
    found: list[tuple[str, int]] = []
    paginator = client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        found.extend(
            (item["Key"], int(item["Size"])) for item in page.get("Contents", [])
        )
    return sorted(found)


async def get_to_file(
    client: Any,
    bucket: str,
    key: str,
    path: Path,
    *,
    version_id: str = "",
    sha256: bytes | None = None,
) -> int:
    """Stream one object into `path`; its size. `S3Error` on a checksum
    mismatch (the file is removed then)."""
    args = {"Bucket": bucket, "Key": key}
    if version_id:
        args["VersionId"] = version_id
    response = await client.get_object(**args)
    digest = hashlib.sha256() if sha256 is not None else None
    size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    body = response["Body"]
    async with body:  # releases the connection, also on failure
        with path.open("wb") as file:
            while chunk := await body.read(CHUNK):
                file.write(chunk)
                size += len(chunk)
                if digest is not None:
                    digest.update(chunk)
    if digest is not None and digest.digest() != sha256:
        path.unlink(missing_ok=True)
        raise S3Error(
            f"checksum mismatch: the object's SHA-256 is {digest.hexdigest()}, "
            f"the spec says {sha256.hex() if sha256 else ''}"
        )
    return size


async def get_many(
    client: Any, items: Iterable[tuple[str, Path]], bucket: str, concurrency: int
) -> int:
    """Stream each (key, path) into its file, `concurrency` at a time."""
    jobs = [partial(get_to_file, client, bucket, key, path) for key, path in items]
    sizes = await _bounded(jobs, concurrency)
    return sum(sizes)


async def put_file(
    client: Any, path: Path, bucket: str, key: str, limits: Limits
) -> int:
    """Upload `path` to `key` (multipart above the threshold); its size."""
    size = path.stat().st_size
    if size <= limits.multipart_threshold:
        with PartFile(path, 0, size) as body:
            await client.put_object(Bucket=bucket, Key=key, Body=body)
        return size
    upload = await client.create_multipart_upload(Bucket=bucket, Key=key)
    upload_id = upload["UploadId"]
    try:
        parts = await _upload_parts(client, path, bucket, key, upload_id, size, limits)
        await client.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
    except BaseException:
        await asyncio.shield(_abort(client, bucket, key, upload_id))
        raise
    return size


async def _upload_parts(
    client: Any,
    path: Path,
    bucket: str,
    key: str,
    upload_id: str,
    size: int,
    limits: Limits,
) -> list[dict[str, Any]]:
    count = -(-size // limits.part_size)

    async def one(number: int) -> dict[str, Any]:
        offset = (number - 1) * limits.part_size
        with PartFile(path, offset, min(limits.part_size, size - offset)) as body:
            answer = await client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    jobs = [partial(one, number) for number in range(1, count + 1)]
    return await _bounded(jobs, limits.upload_parts)


async def _abort(client: Any, bucket: str, key: str, upload_id: str) -> None:
    # the upload failed already: that error is the one to report
    with contextlib.suppress(Exception):
        await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


async def put_many(
    client: Any, items: Iterable[tuple[Path, str]], bucket: str, limits: Limits
) -> int:
    """Upload each (path, key), `limits.concurrency` files at a time."""
    jobs = [partial(put_file, client, path, bucket, key, limits) for path, key in items]
    sizes = await _bounded(jobs, limits.concurrency)
    return sum(sizes)


async def _bounded(
    jobs: Sequence[Callable[[], Awaitable[T]]], concurrency: int
) -> list[T]:
    """Run `jobs` at most `concurrency` at once; results in order. The first
    failure cancels the rest and is raised (not wrapped in a group)."""
    results: list[Any] = [None] * len(jobs)
    queue = iter(enumerate(jobs))

    async def worker() -> None:
        for index, job in queue:
            results[index] = await job()

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(jobs))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return results


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error = group.exceptions[0]
    return _first(error) if isinstance(error, BaseExceptionGroup) else error


class PartFile(io.RawIOBase):
    """A read-only, seekable view of `length` bytes of a file at `offset`:
    a part's body that botocore hashes and aiohttp sends in small reads,
    so a part never sits in memory whole."""

    def __init__(self, path: Path, offset: int, length: int) -> None:
        super().__init__()
        self._file = path.open("rb")
        self._offset = offset
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}
        self._pos = max(0, min(self._length, base[whence] + pos))
        return self._pos

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left if negative), one copy."""
        left = self._length - self._pos
        want = left if size is None or size < 0 else min(size, left)
        if want <= 0:
            return b""
        self._file.seek(self._offset + self._pos)
        data = self._file.read(want)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._length - self._pos)
        if want <= 0:
            return 0
        self._file.seek(self._offset + self._pos)
        got = self._file.readinto(view[:want])
        self._pos += got
        return got

    def __len__(self) -> int:
        return self._length

    def close(self) -> None:
        self._file.close()
        super().close()


def tree_files(folder: Path) -> list[tuple[Path, str]]:
    """Every regular file under `folder` (links not followed) with its
    path relative to it, `/`-separated. Blocking: call it in a thread."""
    found: list[tuple[Path, str]] = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            if path.is_file() and not path.is_symlink():
                found.append((path, path.relative_to(folder).as_posix()))
    return found
