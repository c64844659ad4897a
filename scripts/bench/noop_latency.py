#!/usr/bin/env python3
"""Submit → Completed latency of noop jobs on a 3-node devstack process.

    python scripts/bench/noop_latency.py [--jobs 20] [--nodes 3]

Starts `bacalao devstack` as a separate process, submits noop jobs one at a
time through the HTTP API of node 0, and reports two figures per job:
client-observed (PUT sent → GET first shows Completed, polling every 2 ms)
and server-recorded (job CreateTime → ModifyTime of the Completed state).
Also prints the devstack process's RSS after the run.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BACALAO = str(Path(sys.executable).parent / "bacalao")
POLL = float(__import__("os").environ.get("POLL", "0.002"))
JOB = {"Job": {"Type": "batch", "Tasks": [{"Engine": {"Type": "noop"}}]}}


def call(method: str, url: str, body: object = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def free_base() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--nodes", type=int, default=3)
    args = parser.parse_args()
    base = free_base()
    proc = subprocess.Popen(
        [BACALAO, "devstack", "--nodes", str(args.nodes), "--api-port", str(base),
         "--allow-noop"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "devstack ready" in line:
            break
    url = f"http://127.0.0.1:{base}/api/v1/orchestrator/jobs"
    client, server = [], []
    try:
        for _ in range(args.jobs + 2):
            start = time.perf_counter()
            job_id = call("PUT", url, JOB)["JobID"]
            while True:
                job = call("GET", f"{url}/{job_id}")["Job"]
                if job["State"]["StateType"] in ("Completed", "Failed"):
                    break
                time.sleep(POLL)
            client.append((time.perf_counter() - start) * 1000)
            server.append((job["ModifyTime"] - job["CreateTime"]) / 1e6)
        rss = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    client, server = client[2:], server[2:]  # first jobs warm up connections
    print(f"noop jobs: {args.jobs} sequential on a {args.nodes}-node devstack")
    print(f"  client submit->Completed ms: median {statistics.median(client):.1f} "
          f"min {min(client):.1f} max {max(client):.1f}")
    print(f"  server create->Completed ms: median {statistics.median(server):.1f} "
          f"min {min(server):.1f} max {max(server):.1f}")
    print(f"  devstack process RSS after the run: {rss:.0f} MB ({args.nodes} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
