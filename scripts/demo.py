#!/usr/bin/env python3
"""The README's first command: a local 3-node network running one job.

Starts `bacalao devstack --nodes 3` and, through the real CLI, walks
Bacalhau's flow: a hello-world job on node 0 (Docker when an engine runs
here, WebAssembly otherwise) whose results are published to IPFS (the
default publisher), the job seen from node 2 (every node answers for every
job), `job get` of its results through node 1 (fetched over bitswap from
the node that ran it), and `bacalao ipfs get CID` of the same folder on
node 2. It prints the dashboard's URL (node 0's `/`); at a terminal it
keeps the network up until Enter, so the dashboard can be explored. Then
it stops the network. Run it through `scripts/dev demo`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bacalao.ports import free_port_block

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BACALAO = str(BIN / "bacalao")


def free_base_port(count: int = 3) -> int:
    try:
        return free_port_block(count, preferred=[1234, *range(21000, 30000, 17)])
    except OSError as exc:
        raise SystemExit(f"demo: no free ports for the devstack's API: {exc}") from None


def docker_ready() -> bool:
    print("==> checking for a Docker engine (scripts/setup-docker.sh)", flush=True)
    try:
        done = subprocess.run([str(ROOT / "scripts" / "setup-docker.sh")], timeout=600)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def start_devstack(base: int, repo: Path) -> subprocess.Popen[str]:
    cmd = [
        BACALAO,
        "devstack",
        "--nodes",
        "3",
        "--api-port",
        str(base),
        "--repo-base",
        str(repo),
    ]
    print(f"==> {' '.join(cmd[1:])}", flush=True)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    for line in proc.stdout:
        print(f"    {line.rstrip()}", flush=True)
        if "devstack ready" in line:
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit(
        "demo: the devstack did not start within 60 s (see its output above)"
    )


def published_cid(node: list[str], job_id: str) -> str:
    import json

    listed = subprocess.run(
        [BACALAO, *node, "job", "executions", job_id, "--output", "json"],
        text=True,
        capture_output=True,
        timeout=60,
    )
    items = json.loads(listed.stdout)
    items = items["Items"] if isinstance(items, dict) else items
    for execution in items:
        result = execution.get("PublishedResult") or {}
        if result.get("Type") == "ipfs":
            return str(result["Params"]["CID"])
    raise SystemExit(f"demo: job {job_id} published no IPFS result: {items}")


def show_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            text = path.read_text(errors="replace").strip()[:60]
            print(f"    {path.relative_to(folder)}: {text}", flush=True)


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    print(f"==> bacalao {' '.join(cmd)}", flush=True)
    done = subprocess.run([BACALAO, *cmd], text=True, capture_output=True, timeout=300)
    for line in (done.stdout + done.stderr).splitlines():
        print(f"    {line}", flush=True)
    return done


def hello_wasm(folder: Path) -> Path:
    import wasmtime

    target = folder / "hello.wasm"
    target.write_bytes(
        wasmtime.wat2wasm((ROOT / "examples/wasm/hello.wat").read_text())
    )
    return target


def keep_for_the_dashboard(base: int) -> None:
    """At a terminal, keep the network up until Enter, to look around."""
    if not sys.stdin.isatty():
        return
    with contextlib.suppress(EOFError, KeyboardInterrupt):
        input(
            f"==> the dashboard is at http://127.0.0.1:{base}/ ; "
            "press Enter to stop the network "
        )


def main() -> int:
    use_docker = docker_ready() and os.environ.get("BACALAO_DEMO_ENGINE", "") != "wasm"
    base = free_base_port()
    with tempfile.TemporaryDirectory(prefix="bacalao-demo-") as tmp:
        devstack = start_devstack(base, Path(tmp) / "nodes")
        print(f"==> the dashboard: http://127.0.0.1:{base}/", flush=True)
        try:
            node0 = ["--api-port", str(base)]
            if use_docker:
                job = run(
                    [
                        *node0,
                        "docker",
                        "run",
                        "busybox:1.37.0",
                        "--",
                        "echo",
                        "hello from bacalao",
                    ]
                )
            else:
                print(
                    "==> no Docker engine here: running the WebAssembly hello-world",
                    flush=True,
                )
                job = run([*node0, "wasm", "run", str(hello_wasm(Path(tmp)))])
            if job.returncode != 0:
                return job.returncode
            print(
                "==> node 2 lists the job submitted on node 0 (the shared view):",
                flush=True,
            )
            listed = run(["--api-port", str(base + 2), "job", "list", "--wide"])
            if listed.returncode != 0:
                return listed.returncode
            job_id = next(
                word
                for line in job.stdout.splitlines()
                for word in line.split()
                if word.startswith("j-")
            )
            print("==> its results were published to IPFS; node 1 gets them:")
            results = Path(tmp) / "results"
            got = run(
                ["--api-port", str(base + 1), "job", "get", job_id,
                 "--output-dir", str(results)]
            )  # fmt: skip
            if got.returncode != 0:
                return got.returncode
            show_tree(results)
            cid = published_cid(node0, job_id)
            print(f"==> the same folder by its CID, on node 2: {cid}", flush=True)
            by_cid = Path(tmp) / "by-cid"
            fetched = run(
                ["--api-port", str(base + 2), "ipfs", "get", cid, "-o", str(by_cid)]
            )
            if fetched.returncode != 0:
                return fetched.returncode
            show_tree(by_cid)
            keep_for_the_dashboard(base)
            return 0
        finally:
            devstack.send_signal(signal.SIGINT)
            try:
                devstack.wait(timeout=20)
            except subprocess.TimeoutExpired:
                devstack.kill()
            print("==> devstack stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
