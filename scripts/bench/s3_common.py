"""Shared parts of the S3 benchmarks (`s3_stage.py`, `s3_publish.py`).

moto's S3 server runs as a process of its own on 127.0.0.1 (`moto_server`),
so its CPU is not counted in, or competing for the GIL with, the client
being measured. Each measurement runs in a fresh Python process
(`worker`) that prints one JSON line: seconds, bytes, and RSS growth, the
peak resident set during the transfer over the resident set just before
it (Linux: the peak is reset through /proc/self/clear_refs first).
With `--rounds N` the scripts alternate which side goes first and report
the median time and the worst RSS growth (`combine`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "src"
MiB = 1024 * 1024
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server process on loopback; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


def boto3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def env() -> dict[str, str]:
    return {
        **os.environ,
        **CREDENTIALS,
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }


def run_worker(script: Path, *args: str) -> dict[str, Any]:
    """Run `script --worker ARGS` in a fresh process; its JSON line."""
    result = subprocess.run(
        [sys.executable, str(script), "--worker", *args],
        capture_output=True,
        text=True,
        env=env(),
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> int:
    """Reset the peak RSS to the current one; the current RSS in bytes."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def peak_rss() -> int:
    return _status("VmHWM")


def tree_size(folder: Path) -> int:
    """Bytes of the files under `folder`."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def report(seconds: float, size: int, rss_before: int) -> None:
    print(
        json.dumps(
            {
                "seconds": seconds,
                "bytes": size,
                "rss_growth": max(0, peak_rss() - rss_before),
            }
        ),
        flush=True,
    )


def rate(result: dict[str, Any]) -> float:
    """MiB/s of a worker's result."""
    return float(result["bytes"]) / MiB / float(result["seconds"])


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs of one transfer as one result: the median time, the worst RSS
    growth, and every run's seconds."""
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "bytes": runs[0]["bytes"],
        "rss_growth": max(r["rss_growth"] for r in runs),
        "runs": [round(r["seconds"], 3) for r in runs],
    }


def as_json(result: dict[str, Any]) -> dict[str, Any]:
    """A worker's result with its rate (MiB/s) and RSS growth in MB."""
    return {
        **result,
        "mib_s": round(rate(result), 1),
        "rss_growth_mb": round(result["rss_growth"] / 1e6, 1),
    }


def line(name: str, result: dict[str, Any]) -> str:
    return (
        f"  {name:<26} {rate(result):7.1f} MiB/s  {result['seconds']:6.2f} s  "
        f"RSS +{result['rss_growth'] / MiB:5.1f} MB"
    )
