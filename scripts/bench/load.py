"""Many jobs at once: submit from concurrent clients, wait, verify.

Used by the throughput figure (4) and the footprint figure (9). Clients are
threads, each with its own keep-alive connection, submitting back to back
without waiting for completion. Completion is watched at a bounded request
rate (the watcher must not become the load), and throughput is computed
from the server's own timestamps (`ModifyTime` of the Completed job; the
nodes run on this machine, so their clock is the harness's clock).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from harness import TERMINAL, Api, BenchError, noop_job, summary


@dataclass
class Burst:
    """What a burst of submissions did, and what became of each job."""

    submitted: list[str] = field(default_factory=list)
    submit_start_ns: int = 0
    submit_end_ns: int = 0
    rejected: list[str] = field(default_factory=list)
    put_ms: list[float] = field(default_factory=list)
    unsent: int = 0
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    watch_requests: int = 0

    @property
    def completed(self) -> list[dict[str, Any]]:
        return [j for j in self.jobs.values() if j["State"]["StateType"] == "Completed"]


def submit_burst(url: str, jobs: int, clients: int, budget: float) -> Burst:
    """Submit `jobs` noop jobs from `clients` threads, as fast as answered.

    A client stops early once `budget` seconds have passed; what it did not
    send is counted in `unsent`.
    """
    burst = Burst()
    lock = threading.Lock()
    counts = [
        jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)
    ]
    barrier = threading.Barrier(clients + 1)

    def client(count: int) -> None:
        api = Api(url)
        barrier.wait()
        stop = time.perf_counter() + budget
        for sent in range(count):
            if time.perf_counter() > stop:
                with lock:
                    burst.unsent += count - sent
                break
            start = time.perf_counter()
            try:
                job_id = api.submit(noop_job())
            except (BenchError, OSError) as exc:
                with lock:
                    burst.rejected.append(str(exc)[:200])
                continue
            took = (time.perf_counter() - start) * 1000
            with lock:
                burst.submitted.append(job_id)
                burst.put_ms.append(took)
        api.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in counts]
    for t in threads:
        t.start()
    barrier.wait()
    burst.submit_start_ns = time.time_ns()
    for t in threads:
        t.join()
    burst.submit_end_ns = time.time_ns()
    return burst


def wait_terminal(
    url: str, burst: Burst, timeout: float, tick: float = 0.25, misses: int = 3
) -> None:
    """Poll jobs until all are terminal or `timeout` passes.

    Each tick walks the pending jobs oldest first and stops after `misses`
    jobs still running; those go to the back of the line, so a job that
    never finishes cannot hide the ones behind it. The watcher costs about
    one request per job plus a few per tick.
    """
    api = Api(url, timeout=10)
    pending = list(burst.submitted)
    deadline = time.perf_counter() + timeout
    while pending and time.perf_counter() < deadline:
        running: list[str] = []
        rest = 0
        for rest, job_id in enumerate(pending):  # noqa: B007
            if len(running) >= misses:
                break
            try:
                job = api.job(job_id)
            except (BenchError, OSError):  # an overloaded node: ask again later
                api.close()
                running.append(job_id)
                continue
            if job["State"]["StateType"] in TERMINAL:
                burst.jobs[job_id] = job
            else:
                running.append(job_id)
        else:
            rest = len(pending)
        pending = pending[rest:] + running
        if pending:
            time.sleep(tick)
    burst.watch_requests = api.requests
    api.close()


def verify(url: str, burst: Burst, budget: float, workers: int = 8) -> dict[str, Any]:
    """Lost and duplicated jobs, by the executions and history of each.

    Lost: submitted but not Completed. Duplicated: a job ID returned twice,
    more than one Completed execution, or more than one Completed transition
    in the job's history. Jobs not checked within `budget` s are `unchecked`.
    """
    local = threading.local()
    stop = time.perf_counter() + budget

    def check(job_id: str) -> tuple[str, int, int, list[str]]:
        if time.perf_counter() > stop:
            return "unchecked", 0, 0, []
        if not hasattr(local, "api"):
            local.api = Api(url, timeout=10)
        try:
            return _check(local.api, job_id)
        except (BenchError, OSError):
            local.api.close()
            return "unchecked", 0, 0, []

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(check, burst.submitted))

    states = Counter(r[0] for r in results)
    per_node = Counter(n for r in results for n in r[3])
    dup_ids = len(burst.submitted) - len(set(burst.submitted))
    return {
        "submitted": len(burst.submitted),
        "rejected": len(burst.rejected),
        "states": dict(states),
        "unsent": burst.unsent,
        "unchecked": states.get("unchecked", 0),
        "lost": sum(
            1 for r in results if r[0] not in ("Completed", "unchecked") or r[1] == 0
        ),
        "duplicated": dup_ids + sum(1 for r in results if r[1] > 1 or r[2] > 1),
        "executions_per_node": sorted(per_node.values(), reverse=True),
    }


def throughput(burst: Burst) -> dict[str, Any]:
    """Jobs/s from the first submission to the last Completed, and latencies."""
    submit_window = (burst.submit_end_ns - burst.submit_start_ns) / 1e9
    out: dict[str, Any] = {
        "completed": len(burst.completed),
        "jobs_per_s": 0.0,
        "window_s": float("nan"),
        "submit_window_s": submit_window,
        "submitted_per_s": len(burst.submitted) / submit_window
        if submit_window > 0
        else 0.0,
        "put_ms": summary(burst.put_ms),
        "server_ms": summary(
            [(j["ModifyTime"] - j["CreateTime"]) / 1e6 for j in burst.completed]
        ),
    }
    if burst.completed:
        last = max(j["ModifyTime"] for j in burst.completed)
        out["window_s"] = (last - burst.submit_start_ns) / 1e9
        out["jobs_per_s"] = len(burst.completed) / out["window_s"]
    return out


def _check(api: Api, job_id: str) -> tuple[str, int, int, list[str]]:
    """A job's state, Completed executions, Completed transitions, nodes."""
    got = api.call("GET", f"/api/v1/orchestrator/jobs/{job_id}?include=executions")
    execs = got.get("Executions", {}).get("Items", [])
    done = [e for e in execs if e["ComputeState"]["StateType"] == 9]
    history = api.call("GET", f"/api/v1/orchestrator/jobs/{job_id}/history")
    completions = sum(
        1
        for h in history.get("Items", [])
        if (h.get("JobState") or {}).get("New") == "Completed"
    )
    return (
        got["Job"]["State"]["StateType"],
        len(done),
        completions,
        [e["NodeID"] for e in done],
    )
