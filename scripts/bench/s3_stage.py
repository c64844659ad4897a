"""Benchmark: staging an S3 input (one 256 MiB object; 1,000 objects under a
prefix, 256 MiB in all) against plain boto3 in threads (what `aws s3 cp`
and `aws s3 cp --recursive` do: s3transfer, 10 threads), from the same
moto server on loopback, one run each (`--rounds N`: the median of N,
alternating which goes first). Goal: ≥ 90% of boto3's rate,
RSS growth ≤ 32 MB.

    python scripts/bench/s3_stage.py [--size-mib 256] [--objects 1000] [--rounds 1]
                                     [--json FILE]

"Ours" is `Sources.stage` with an `s3` input, the code a compute node runs
before a job's task starts (S3Service: aioboto3 on its asyncio thread).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from s3_common import (
    MiB,
    as_json,
    boto3_client,
    combine,
    env,
    line,
    moto_server,
    rate,
    report,
    reset_peak,
    run_worker,
    tree_size,
)

HERE = Path(__file__).resolve()
SHAPES = ("one", "many")
GOAL_RATIO = 0.9
GOAL_RSS_MB = 32.0


def setup(endpoint: str, size: int, objects: int) -> None:
    os.environ.update({k: v for k, v in env().items() if k.startswith("AWS_")})
    client = boto3_client(endpoint)
    client.create_bucket(Bucket="bench")
    with tempfile.NamedTemporaryFile() as big:
        chunk = os.urandom(MiB)
        for _ in range(size // MiB):
            big.write(chunk)
        big.flush()
        client.upload_file(big.name, "bench", "one/big.bin")
    small = os.urandom(size // objects)

    def put(index: int) -> None:
        client.put_object(
            Bucket="bench", Key=f"many/{index // 100}/{index}.bin", Body=small
        )

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(put, range(objects)))


def worker(mode: str, endpoint: str, dest: Path) -> None:
    if mode.startswith("boto3"):
        _boto3(mode, endpoint, dest)
    else:
        import trio

        trio.run(_ours, mode, endpoint, dest)


def _boto3(mode: str, endpoint: str, dest: Path) -> None:
    client = boto3_client(endpoint)
    client.list_buckets()  # connect and load the models before measuring
    before = reset_peak()
    start = time.perf_counter()
    if mode == "boto3-one":
        client.download_file("bench", "one/big.bin", str(dest / "big.bin"))
    elif mode == "boto3stream-one":
        body = client.get_object(Bucket="bench", Key="one/big.bin")["Body"]
        with (dest / "big.bin").open("wb") as file:
            for chunk in body.iter_chunks(MiB):
                file.write(chunk)
    else:
        keys = [
            item["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket="bench", Prefix="many/"
            )
            for item in page.get("Contents", [])
        ]

        def get(key: str) -> None:
            path = dest / key
            path.parent.mkdir(parents=True, exist_ok=True)
            client.download_file("bench", key, str(path))

        with ThreadPoolExecutor(10) as pool:
            list(pool.map(get, keys))
    seconds = time.perf_counter() - start
    report(seconds, tree_size(dest), before)


async def _ours(mode: str, endpoint: str, dest: Path) -> None:
    from bacalao.dataplane import DataConfig, PluginContext, S3Config
    from bacalao.models.job import InputSource
    from bacalao.s3.service import S3Service
    from bacalao.storage.sources import build_sources

    s3 = S3Service(S3Config(endpoint=endpoint))
    await s3.start()
    sources = await build_sources(PluginContext(DataConfig(), s3=s3))
    key = "one/big.bin" if mode == "ours-one" else "many/"
    source = InputSource.model_validate(
        {
            "Source": {"Type": "s3", "Params": {"Bucket": "bench", "Key": key}},
            "Target": "/in",
        }
    )
    warm = InputSource.model_validate(
        {
            "Source": {
                "Type": "s3",
                "Params": {"Bucket": "bench", "Key": "many/0/0.bin"},
            },
            "Target": "/w",
        }
    )
    await sources.stage([warm], dest / "warm")  # client, connections, models
    before = reset_peak()
    start = time.perf_counter()
    await sources.stage([source], dest / "run")
    seconds = time.perf_counter() - start
    report(seconds, tree_size(dest / "run"), before)
    await s3.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, help="median of N runs")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "ENDPOINT", "DEST"))
    args = parser.parse_args()
    if args.worker:
        mode, endpoint, dest = args.worker
        worker(mode, endpoint, Path(dest))
        return
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        setup(endpoint, args.size_mib * MiB, args.objects)
        print(
            f"S3 input staging, {args.size_mib} MiB, moto_server on loopback, "
            f"median of {args.rounds}:"
        )
        shapes = {
            shape: measure(shape, endpoint, Path(tmp), args.rounds) for shape in SHAPES
        }
    for shape, results in shapes.items():
        print_shape(shape, args.objects, results)
    if args.json:
        payload = {
            "mib": args.size_mib,
            "objects": args.objects,
            "rounds": args.rounds,
            "goal_ratio": GOAL_RATIO,
            "goal_rss_mb": GOAL_RSS_MB,
            "shapes": {shape: summarize(results) for shape, results in shapes.items()},
        }
        args.json.write_text(json.dumps(payload, indent=2))
    sys.stdout.flush()


def measure(
    shape: str, endpoint: str, tmp: Path, rounds: int
) -> dict[str, dict[str, Any]]:
    """boto3 and ours (and, for one object, boto3's streamed GET), in an
    order that flips every round; `combine`d per side."""
    modes = {"boto3": f"boto3-{shape}", "ours": f"ours-{shape}"}
    if shape == "one":  # s3transfer's ranged GETs cost moto dearly
        modes["stream"] = "boto3stream-one"
    runs: dict[str, list[dict[str, Any]]] = {who: [] for who in modes}
    for i in range(rounds):
        for who in list(modes)[:: -1 if i % 2 else 1]:
            dest = tmp / f"{who}-{shape}"
            dest.mkdir()
            runs[who].append(run_worker(HERE, modes[who], endpoint, str(dest)))
            shutil.rmtree(dest)
    return {who: combine(r) for who, r in runs.items()}


def summarize(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {who: as_json(r) for who, r in results.items()}
    out["ratio"] = round(rate(results["ours"]) / rate(results["boto3"]), 3)
    if "stream" in results:
        out["ratio_stream"] = round(rate(results["ours"]) / rate(results["stream"]), 3)
    return out


def print_shape(shape: str, objects: int, results: dict[str, dict[str, Any]]) -> None:
    what = "1 object" if shape == "one" else f"{objects} objects"
    print(line(f"boto3, {what}", results["boto3"]))
    if "stream" in results:
        print(line("boto3 one streamed GET", results["stream"]))
    print(line(f"bacalao, {what}", results["ours"]))
    ratio = rate(results["ours"]) / rate(results["boto3"])
    print(f"  ratio {ratio:.0%} of boto3 (goal >= {GOAL_RATIO:.0%})")
    if "stream" in results:
        ratio = rate(results["ours"]) / rate(results["stream"])
        print(f"  ratio {ratio:.0%} of boto3's streamed GET")


if __name__ == "__main__":
    main()
