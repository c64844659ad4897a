"""Benchmark: publishing a 256 MiB result to S3 against plain boto3 in
threads (`upload_file`: s3transfer, 8 MiB parts, 10 threads, as `aws s3 cp`
does), to the same moto server on loopback, one run each (`--rounds N`: the
median of N, alternating which goes first). Goal: ≥ 90% of
boto3's rate, RSS growth ≤ 32 MB.

    python scripts/bench/s3_publish.py [--size-mib 256] [--rounds 1] [--json FILE]

"Ours" is the `s3` publisher's `publish`, the code a compute node runs
when a job's task ends (uncompressed: the file goes up in parts).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
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
GOAL_RATIO = 0.9
GOAL_RSS_MB = 32.0


def make_results(folder: Path, size: int) -> None:
    (folder / "outputs").mkdir(parents=True)
    (folder / "stdout").write_text("done\n")
    chunk = os.urandom(MiB)
    with (folder / "outputs" / "result.bin").open("wb") as file:
        for _ in range(size // MiB):
            file.write(chunk)


def worker(mode: str, endpoint: str, results: Path) -> None:
    if mode == "boto3":
        client = boto3_client(endpoint)
        client.list_buckets()
        before = reset_peak()
        start = time.perf_counter()
        for path in sorted(p for p in results.rglob("*") if p.is_file()):
            key = "boto3/" + path.relative_to(results).as_posix()
            client.upload_file(str(path), "bench", key)
        report(time.perf_counter() - start, tree_size(results), before)
        return
    import trio

    trio.run(_ours, endpoint, results)


async def _ours(endpoint: str, results: Path) -> None:
    from bacalao.dataplane import DataConfig, PluginContext, S3Config
    from bacalao.models.job import SpecConfig
    from bacalao.publishers.base import PublishRequest
    from bacalao.publishers.set import build_publishers
    from bacalao.s3.service import S3Service

    s3 = S3Service(S3Config(endpoint=endpoint))
    await s3.start()
    publishers = await build_publishers(PluginContext(DataConfig(), s3=s3))
    with tempfile.TemporaryDirectory() as scratch:

        def request(key: str, folder: Path) -> PublishRequest:
            return PublishRequest(
                spec=SpecConfig(Type="s3", Params={"Bucket": "bench", "Key": key}),
                results_dir=folder,
                scratch=Path(scratch),
                execution_id="e-bench",
                job_id="j-bench",
                node_id="bench",
            )

        warm = Path(scratch) / "warm"
        warm.mkdir()
        (warm / "stdout").write_text("warm\n")
        await publishers.publish(request("warm", warm))  # client, connections
        before = reset_peak()
        start = time.perf_counter()
        await publishers.publish(request("ours/{jobID}", results))
        report(time.perf_counter() - start, tree_size(results), before)
    await s3.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=1, help="median of N runs")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "ENDPOINT", "RESULTS"))
    args = parser.parse_args()
    if args.worker:
        mode, endpoint, results = args.worker
        worker(mode, endpoint, Path(results))
        return
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        os.environ.update({k: v for k, v in env().items() if k.startswith("AWS_")})
        boto3_client(endpoint).create_bucket(Bucket="bench")
        results = Path(tmp) / "results"
        make_results(results, args.size_mib * MiB)
        print(
            f"S3 publishing, a {args.size_mib} MiB result, moto_server on "
            f"loopback, median of {args.rounds}:"
        )
        runs: dict[str, list[dict[str, Any]]] = {"boto3": [], "ours": []}
        for i in range(args.rounds):
            for who in ("ours", "boto3") if i % 2 else ("boto3", "ours"):
                runs[who].append(run_worker(HERE, who, endpoint, str(results)))
        base, ours = combine(runs["boto3"]), combine(runs["ours"])
    ratio = rate(ours) / rate(base)
    print(line("boto3 upload_file", base))
    print(line("bacalao s3 publisher", ours))
    print(f"  ratio {ratio:.0%} of boto3 (goal >= {GOAL_RATIO:.0%})")
    if args.json:
        payload = {
            "mib": args.size_mib,
            "rounds": args.rounds,
            "goal_ratio": GOAL_RATIO,
            "goal_rss_mb": GOAL_RSS_MB,
            "boto3": as_json(base),
            "ours": as_json(ours),
            "ratio": round(ratio, 3),
        }
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
