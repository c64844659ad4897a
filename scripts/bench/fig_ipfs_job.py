"""Figure 14: a Docker job whose IPFS input crosses the network, against the
same job with the input already on the node that runs it.

Two `bacalao serve` processes, joined: node 0 (label `bench-role=holder`)
takes every job and holds the remote inputs; node 1 (`bench-role=runner`)
runs every job, pinned there by a Constraint, so a remote input is fetched
from node 0 over bitswap. Each round runs three jobs of `busybox:1.37.0
ls -l TARGET`, in an order that rotates from round to round:

- remote: the input is a fresh file of random bytes added on node 0;
- local:  a fresh file added on node 1 itself, so staging fetches nothing
          (every block is already in its store) but still exports it;
- none:   the same job with no input (`ls -l /`), the Docker floor.

Fresh bytes every time, so no job finds blocks an earlier one left. The
adds are not timed. Phases come from server-side clocks: the job's
CreateTime and ModifyTime, the execution's "BidAccepted" history event
(the compute node starts staging right then), and `docker events` for the
job's container (create, start, die), found by its job-ID label.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import (
    ALONE,
    JOBS,
    Api,
    BenchError,
    NodeProcess,
    run_job,
    serve_argv,
    stop_all,
    wait_ready,
)
from report import Figure, secs

IMAGE = "busybox:1.37.0"
TARGET = "/data"
LABEL = "bench-role"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JOB_LABEL = "bacalao.job-id"  # executors/docker_options.py LABEL_JOB
VARIANTS = ("remote", "local", "none")
PHASES = ("schedule", "stage", "start", "task", "finish")
PHASE_NAMES = {
    "schedule": "submitted → execution starting (history: BidAccepted)",
    "stage": "execution starting → container created (inputs staged, "
    "image checked, `docker create`)",
    "start": "container created → started (`docker start`: mounts, cgroups)",
    "task": "container started → exited (`ls -l`)",
    "finish": "container exited → job Completed (remove, publish, report)",
    "server": "server total (CreateTime → ModifyTime)",
    "client": "client-observed submit → Completed",
}


def job_spec(cid: str | None) -> dict[str, Any]:
    """`ls -l /data` with `cid` as /data (or `ls -l /`), pinned to node 1."""
    params = {"Image": IMAGE, "Parameters": ["ls", "-l", TARGET if cid else "/"]}
    task: dict[str, Any] = {
        "Name": "main",
        "Engine": {"Type": "docker", "Params": params},
    }
    if cid:
        source = {"Type": "ipfs", "Params": {"CID": cid}}
        task["InputSources"] = [{"Source": source, "Target": TARGET}]
    constraint = {"Key": LABEL, "Operator": "=", "Values": ["runner"]}
    return {"Type": "batch", "Constraints": [constraint], "Tasks": [task]}


# ---------------------------------------------------------------- the phases


def _ns(stamp: str) -> int:
    """An ISO 8601 time as whole ns since the epoch (a float would round)."""
    delta = datetime.fromisoformat(stamp) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def phases(
    job: dict[str, Any], history: list[dict[str, Any]], events: list[dict[str, Any]]
) -> dict[str, float]:
    """Milliseconds of each phase of one job, from its record, its history
    and its container's docker events (BenchError if one is missing)."""
    starting = [
        _ns(h["Event"]["Timestamp"])
        for h in history
        if h["Type"] == "ExecutionLevel"
        and h["Event"]["Details"].get("NewState") == "BidAccepted"
    ]
    seen = {e["Action"]: int(e["timeNano"]) for e in events if e["Type"] == "container"}
    missing = [a for a in ("create", "start", "die") if a not in seen]
    if not starting or missing:
        raise BenchError(f"job {job['ID']}: no BidAccepted event or docker {missing}")
    marks = [
        job["CreateTime"],
        starting[0],
        seen["create"],
        seen["start"],
        seen["die"],
        job["ModifyTime"],
    ]
    out = {
        name: (b - a) / 1e6
        for name, a, b in zip(PHASES, marks[:-1], marks[1:], strict=True)
    }
    out["server"] = (job["ModifyTime"] - job["CreateTime"]) / 1e6
    return out


def container_events(job_id: str, since: float) -> list[dict[str, Any]]:
    """The docker events of the job's containers from `since` (epoch s) to now."""
    argv = ["docker", "events", "--since", f"{since:.3f}", "--until"]
    argv += [f"{time.time():.3f}", "--filter", f"label={JOB_LABEL}={job_id}"]
    argv += ["--format", "{{json .}}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise BenchError(f"docker events: {done.stderr.strip()[-300:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------- the nodes


class Pair:
    """Node 0 (holder, takes jobs) and node 1 (runner), as processes."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: list[NodeProcess] = []
        self.apis: list[Api] = []

    def start(self) -> Pair:
        holder = self._node(0, "holder", None)
        wait_ready([holder])
        runner = self._node(1, "runner", holder.swarm_addrs[0])
        wait_ready([runner])
        self.apis = [Api(p.api_url, timeout=300) for p in self.procs]
        deadline = time.perf_counter() + 60
        while len(self.apis[0].node_ids()) < 2:
            if time.perf_counter() > deadline:
                raise BenchError("node 0 does not list node 1 after 60 s")
            time.sleep(0.1)
        return self

    def _node(self, index: int, role: str, peer: str | None) -> NodeProcess:
        argv = serve_argv(self.work / f"node-{index}", peer=peer, engines="docker")
        argv += ["--labels", f"{LABEL}={role}"]
        log = self.work / f"node-{index}.log"
        proc = NodeProcess(f"node-{index}", argv, log, env=ALONE).start()
        self.procs.append(proc)
        return proc

    def add_random(self, index: int, size: int) -> str:
        """A fresh file of `size` random bytes, added on node `index`; its CID."""
        from bacalao.client.api import Client
        from bacalao.client.ipfs import add

        path = self.work / f"input-{index}.bin"
        with path.open("wb") as out:
            for start in range(0, size, 16 << 20):
                out.write(os.urandom(min(16 << 20, size - start)))
        api = self.apis[index]
        try:
            return str(add(Client(api.host, api.port, timeout=300), path)["CID"])
        finally:
            path.unlink()

    def stop(self) -> None:
        stop_all(self.procs)
        for index in range(len(self.procs)):  # the inputs: 100s of MB
            shutil.rmtree(self.work / f"node-{index}" / "ipfs", ignore_errors=True)


def run_variant(pair: Pair, variant: str, size: int) -> dict[str, Any]:
    """One job of `variant`, checked to have run on node 1 and seen its input."""
    cid = None
    if variant != "none":
        cid = pair.add_random(0 if variant == "remote" else 1, size)
    api = pair.apis[0]
    since = time.time() - 1
    timing = run_job(api, job_spec(cid), poll=0.02, timeout=300)
    if timing.state != "Completed":
        raise BenchError(f"{variant} job {timing.job_id} ended {timing.state}")
    base = f"{JOBS}/{timing.job_id}"
    execution = api.call("GET", f"{base}/executions")["Items"][0]
    runner = pair.procs[1].swarm_addrs[0].rsplit("/p2p/", 1)[1]
    if execution["NodeID"] != runner:
        raise BenchError(f"{variant} job ran on {execution['NodeID']}, not node 1")
    stdout = (execution.get("RunOutput") or {}).get("Stdout", "")
    if cid and str(size) not in stdout:
        raise BenchError(f"{variant} job did not see {size} bytes: {stdout[:200]!r}")
    history = api.call("GET", f"{base}/history?limit=1000")["Items"]
    got = phases(
        api.job(timing.job_id), history, container_events(timing.job_id, since)
    )
    return {**got, "client": timing.client_ms, "job_id": timing.job_id}


# ---------------------------------------------------------------- the figure


def measure(pair: Pair, sizes: Any) -> dict[str, list[dict[str, Any]]]:
    size = sizes.job_mib << 20
    if sizes.warmup:
        for variant in VARIANTS:
            run_variant(pair, variant, size)
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    for i in range(sizes.job_rounds):
        for variant in VARIANTS[i % 3 :] + VARIANTS[: i % 3]:
            runs[variant].append(run_variant(pair, variant, size))
    return runs


def medians(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    keys = (*PHASES, "server", "client")
    return {
        v: {k: statistics.median(r[k] for r in rs) for k in keys}
        for v, rs in runs.items()
    }


def figure_14(sizes: Any, work: Path) -> Figure:
    fig = Figure.new(
        14,
        f"{sizes.job_rounds} round(s) of three `{IMAGE}` Docker jobs (`ls -l /data`) "
        "submitted to node 0 of two `bacalao serve` processes and pinned by a "
        f"label constraint to node 1, order rotating: `remote` (a fresh "
        f"{sizes.job_mib} MiB file of random bytes added on node 0, fetched "
        "by node 1 over bitswap), `local` (a fresh file added on node 1 itself: "
        "no fetch) and `none` (no input, `ls -l /`); "
        + ("one warm-up of each; " if sizes.warmup else "")
        + "medians. Phases from the job's CreateTime/ModifyTime, the execution's "
        "BidAccepted history event and the container's `docker events`.",
    )
    from fig_latency import docker_ready

    reason = docker_ready()
    if reason:
        fig.skipped = reason
        return fig
    pair = Pair(work)
    try:
        pair.start()
        runs = measure(pair, sizes)
    finally:
        pair.stop()
    describe(fig, runs, sizes.job_mib)
    fig.rows.append(("Docker storage driver", storage_driver()))
    return fig


def storage_driver() -> str:
    """The engine's storage driver (vfs makes `docker create` slow)."""
    argv = ["docker", "info", "--format", "{{.Driver}}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return done.stdout.strip() or "unknown"


def describe(fig: Figure, runs: dict[str, list[dict[str, Any]]], mib: int) -> None:
    med = medians(runs)
    remote, local, none = med["remote"], med["local"], med["none"]
    fetch_ms = remote["stage"] - local["stage"]
    export_ms = local["stage"] - none["stage"]
    rate = mib / (fetch_ms / 1000) if fetch_ms > 0 else float("nan")
    fig.data = {"mib": mib, "medians_ms": med, "runs": runs}
    fig.data |= {"fetch_ms": fetch_ms, "export_ms": export_ms, "fetch_mib_s": rate}
    fig.result = (
        f"remote input {secs(remote['client'] / 1000)} vs local "
        f"{secs(local['client'] / 1000)} vs no input {secs(none['client'] / 1000)} "
        f"(fetch ≈ {fetch_ms / 1000:.2f} s, {rate:.0f} MiB/s)"
    )
    n = len(runs["remote"])
    fig.rows = [
        (
            f"{PHASE_NAMES[k]} (median of {n})",
            " · ".join(f"{v} {med[v][k] / 1000:.3f} s" for v in VARIANTS),
        )
        for k in (*PHASES, "server", "client")
    ]
    fig.rows += [
        (
            "fetch over bitswap (stage: remote - local)",
            f"{fetch_ms / 1000:.3f} s ({rate:.1f} MiB/s)",
        ),
        (
            "local DAG read + export to the input folder (stage: local - none)",
            f"{export_ms / 1000:.3f} s",
        ),
        (
            "bind mount of the input (start: local - none)",
            f"{(local['start'] - none['start']) / 1000:.3f} s",
        ),
    ]
    fig.notes.append(
        "`local` is the baseline: the same job with its input already on the "
        "compute node (added there, not left by an earlier run, so its pages "
        "are as warm as a fetched input's); `none` is what any Docker job "
        "costs here. Stage = everything between the compute node starting "
        "the execution and the container's creation: with an input, the DAG "
        "walk that fetches what is missing (bitswap), the pin, the export to "
        "the input folder; for all, the results folder and the image check."
    )
