"""Measurement behind `s3/loop.py`'s choice: aioboto3 on an asyncio loop
in a thread of its own vs on trio-asyncio, against moto_server on loopback.

For each adapter it streams one object to a file (the staging path) while
a trio task ticks every millisecond, and prints the throughput and the
trio loop's worst and 99th-percentile lateness: the lag every other part
of a node (libp2p, the API) would see during a transfer.

    python scripts/bench/aio_adapters.py [--size-mib 128]

With trio-asyncio the file writes go through `loop.run_in_executor`
(writing on the loop would block trio outright); in the thread adapter
they are plain writes on the S3 thread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio
from s3_common import SRC, MiB, boto3_client, env, moto_server

CHUNK = MiB


async def _download(client: Any, path: Path, *, offload: bool) -> int:
    response = await client.get_object(Bucket="bench", Key="obj")
    body = response["Body"]
    loop = asyncio.get_running_loop()
    size = 0
    with path.open("wb") as file:
        async with body:
            while chunk := await body.read(CHUNK):
                size += len(chunk)
                if offload:
                    await loop.run_in_executor(None, file.write, chunk)
                else:
                    file.write(chunk)
    return size


async def _ticker(lags: list[float], stop: trio.Event) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await trio.sleep(0.001)
        lags.append(time.perf_counter() - start - 0.001)


async def _measure(
    name: str, run: Callable[[], Awaitable[int]]
) -> tuple[str, float, float, float]:
    await run()  # warm: client, connections
    lags: list[float] = []
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_ticker, lags, stop)
        start = time.perf_counter()
        size = await run()
        seconds = time.perf_counter() - start
        stop.set()
    p99 = statistics.quantiles(lags, n=100)[98] if len(lags) > 100 else max(lags)
    return name, size / MiB / seconds, max(lags) * 1000, p99 * 1000


async def _thread_adapter(endpoint: str, path: Path) -> tuple[str, float, float, float]:
    import aioboto3

    from bacalao.s3.loop import AsyncioThread

    loop = AsyncioThread()
    loop.start()
    holder: dict[str, Any] = {}

    async def open_client() -> None:
        holder["cm"] = aioboto3.Session().client("s3", endpoint_url=endpoint)
        holder["client"] = await holder["cm"].__aenter__()

    async def close_client() -> None:
        await holder["cm"].__aexit__(None, None, None)

    await loop.run(open_client)
    try:
        return await _measure(
            "asyncio thread",
            lambda: loop.run(lambda: _download(holder["client"], path, offload=False)),
        )
    finally:
        await loop.run(close_client)
        await trio.to_thread.run_sync(loop.close)


async def _trio_asyncio(endpoint: str, path: Path) -> tuple[str, float, float, float]:
    import aioboto3
    import trio_asyncio

    async with trio_asyncio.open_loop():
        cm = aioboto3.Session().client("s3", endpoint_url=endpoint)
        client = await trio_asyncio.aio_as_trio(cm.__aenter__)()
        try:
            return await _measure(
                "trio-asyncio",
                lambda: trio_asyncio.aio_as_trio(_download)(client, path, offload=True),
            )
        finally:
            await trio_asyncio.aio_as_trio(cm.__aexit__)(None, None, None)


async def _main(endpoint: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "obj"
        rows = [
            await _thread_adapter(endpoint, path),
            await _trio_asyncio(endpoint, path),
        ]
        rows.append(await _thread_adapter(endpoint, path))  # interleaved
    print("adapter           MiB/s   trio lag max   p99")
    for name, rate, worst, p99 in rows:
        print(f"  {name:<14} {rate:7.1f}   {worst:8.1f} ms  {p99:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=128)
    args = parser.parse_args()
    sys.path.insert(0, str(SRC))  # this checkout's bacalao, not an installed one
    os.environ.update({k: v for k, v in env().items() if k.startswith("AWS_")})
    with moto_server() as endpoint:
        client = boto3_client(endpoint)
        client.create_bucket(Bucket="bench")
        client.put_object(
            Bucket="bench", Key="obj", Body=os.urandom(args.size_mib * MiB)
        )
        trio.run(_main, endpoint)


if __name__ == "__main__":
    main()
