"""Jobs the scenarios submit, and the verdict on what became of them.

A job counts once its submission was acknowledged (HTTP 200 with a job
ID). After a scenario, `settle` polls every acknowledged job on its
requester until each is terminal or the time budget is spent, and `tally`
counts: terminal, Completed, lost (the requester no longer knows an ID it
acknowledged) and run twice. "Run twice" is judged from both sides: the
job's executions (more than one Completed execution of a Count 1 batch
job) and the compute nodes' own disks (more than one execution of the
job that ran to an exit code, from each node's `compute.db` and results
folders).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster import request

JOBS = "/api/v1/orchestrator/jobs"
TERMINAL = ("Completed", "Failed", "Stopped")
COMPLETED_EXECUTION = 9
DECLINED = 4  # AskForBidRejected
_EXECUTION_STATES = {
    5: "BidAccepted",
    6: "Running",
    9: "Completed",
    10: "Failed",
    11: "Cancelled",
}
IMAGE = "busybox:1.37.0"
REFUSED_BACKOFF = 0.1


def noop_job(seconds: float = 0.0, *, pin: str = "") -> dict[str, Any]:
    """A noop batch job that takes `seconds`; `pin`: a `chaos-node` label."""
    engine = {"Type": "noop", "Params": {"Duration": seconds, "Stdout": "ok\n"}}
    return _batch(engine, pin)


def docker_job(seconds: float, *, pin: str = "") -> dict[str, Any]:
    """`sleep` then echo in busybox: a job whose container matters."""
    script = f"sleep {seconds:g}; echo done"
    params = {"Image": IMAGE, "Entrypoint": ["sh", "-c"], "Parameters": [script]}
    return _batch({"Type": "docker", "Params": params}, pin)


def _batch(engine: dict[str, Any], pin: str) -> dict[str, Any]:
    job: dict[str, Any] = {
        "Type": "batch",
        "Count": 1,
        "Tasks": [{"Name": "main", "Engine": engine}],
    }
    if pin:
        job["Constraints"] = [{"Key": "chaos-node", "Operator": "=", "Values": [pin]}]
    return job


def submit(url: str, job: dict[str, Any], timeout: float = 30) -> tuple[str, str]:
    """(job ID, "") once acknowledged, else ("", why not)."""
    status, body = request(url, "PUT", JOBS, {"Job": job}, timeout=timeout)
    if status == 200 and isinstance(body, dict) and body.get("JobID"):
        return str(body["JobID"]), ""
    return "", f"HTTP {status}: {str(body)[:200]}"


def describe(url: str, job_id: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, {"Job": ..., "Executions": [...]}) of one job."""
    status, body = request(url, "GET", f"{JOBS}/{job_id}?include=executions")
    if status != 200 or not isinstance(body, dict):
        return status, {}
    items = (body.get("Executions") or {}).get("Items") or []
    return status, {"Job": body["Job"], "Executions": items}


def state_of(described: dict[str, Any]) -> str:
    return str(described["Job"]["State"]["StateType"]) if described else ""


@dataclass
class Settled:
    """The last thing the requester said about each acknowledged job."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)  # 404: forgotten
    unanswered: set[str] = field(default_factory=set)  # no answer at the end


def settle(url: str, job_ids: list[str], timeout: float) -> Settled:
    """Poll until every job is terminal (or unknown), or `timeout` passes."""
    out = Settled()
    pending = list(dict.fromkeys(job_ids))
    deadline = time.perf_counter() + timeout
    while pending:
        still: list[str] = []
        for job_id in pending:
            status, described = describe(url, job_id)
            out.unanswered.discard(job_id)
            if status == 404:
                out.missing.add(job_id)
            elif status != 200:
                out.unanswered.add(job_id)
                still.append(job_id)
            else:
                out.jobs[job_id] = described
                if state_of(described) not in TERMINAL:
                    still.append(job_id)
        pending = still
        if pending and time.perf_counter() > deadline:
            break
        if pending:
            time.sleep(0.5)
    return out


@dataclass
class Tally:
    """What became of a scenario's acknowledged jobs."""

    acknowledged: int = 0
    terminal: int = 0
    completed: int = 0
    lost: int = 0
    twice: int = 0
    states: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


def merge(tallies: list[Tally]) -> Tally:
    """The sum of several tallies (e.g. of jobs owned by different nodes)."""
    out = Tally()
    for one in tallies:
        out.acknowledged += one.acknowledged
        out.terminal += one.terminal
        out.completed += one.completed
        out.lost += one.lost
        out.twice += one.twice
        out.states.update(one.states)
        out.examples += one.examples
    out.examples = out.examples[:8]
    return out


def tally(
    url: str, job_ids: list[str], timeout: float, compute_repos: list[Path] = ()
) -> Tally:
    """Settle `job_ids` on `url` and count; see the module docstring."""
    settled = settle(url, job_ids, timeout)
    ran = ran_to_exit(list(compute_repos))
    out = Tally(acknowledged=len(job_ids))
    for job_id in job_ids:
        if job_id in settled.missing:
            out.lost += 1
            out.states["unknown to its requester"] += 1
            out.examples.append(f"{job_id}: acknowledged, then unknown (404)")
            continue
        described = settled.jobs.get(job_id)
        state = state_of(described) if described else "no answer"
        out.states[state] += 1
        if state in TERMINAL:
            out.terminal += 1
        elif len(out.examples) < 6:
            out.examples.append(f"{job_id}: still {state}")
        out.completed += state == "Completed"
        done = [
            e
            for e in (described or {}).get("Executions", [])
            if e["ComputeState"]["StateType"] == COMPLETED_EXECUTION
        ]
        count_one = (described or {}).get("Job", {}).get("Count", 1) == 1
        if count_one and (len(done) > 1 or ran.get(job_id, 0) > 1):
            out.twice += 1
            out.examples.append(
                f"{job_id}: {len(done)} Completed executions, "
                f"{ran.get(job_id, 0)} ran to an exit code on compute nodes; "
                f"executions: {_executions(described)}"
            )
    return out


def _executions(described: dict[str, Any] | None) -> str:
    """The job's executions that were more than a declined bid, briefly."""
    shown = []
    for e in (described or {}).get("Executions", []):
        state = e["ComputeState"]
        if state["StateType"] == DECLINED:
            continue
        why = f" ({state['Message'][:50]})" if state.get("Message") else ""
        name = _EXECUTION_STATES.get(state["StateType"], state["StateType"])
        shown.append(f"{name} on {e['NodeID'][-6:]}{why}")
    return ", ".join(shown[:4])


def ran_to_exit(repos: list[Path]) -> Counter[str]:
    """Per job ID: executions that ran to an exit code, across compute repos."""
    counts: Counter[str] = Counter()
    for repo in repos:
        for execution_id, job_id in _local_executions(repo):
            if (repo / "executions" / execution_id / "exitCode").exists():
                counts[job_id] += 1
    return counts


def _local_executions(repo: Path) -> list[tuple[str, str]]:
    path = repo / "compute.db"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute(
            "SELECT id, json_extract(body, '$.JobID') FROM local_executions"
        ).fetchall()
    except sqlite3.Error:
        return []
    finally:
        db.close()
    return [(str(a), str(b)) for a, b in rows]


class Submitter:
    """Client threads submitting jobs until told to stop (or `limit` sent)."""

    def __init__(self, url: str, make_job: Any, clients: int, limit: int) -> None:
        self.url = url
        self.make_job = make_job
        self.limit = limit
        self.acked: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sent = 0
        self._threads = [
            threading.Thread(target=self._client, daemon=True) for _ in range(clients)
        ]

    def start(self) -> Submitter:
        for thread in self._threads:
            thread.start()
        return self

    def _take(self) -> bool:
        with self._lock:
            if self._stop.is_set() or self._sent >= self.limit:
                return False
            self._sent += 1
            return True

    def _client(self) -> None:
        while self._take():
            job_id, why = submit(self.url, self.make_job(), timeout=30)
            with self._lock:
                if job_id:
                    self.acked.append(job_id)
                else:
                    self.refused.append(why)
            if not job_id:
                time.sleep(REFUSED_BACKOFF)  # a dead node must not be hammered

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 120) -> None:
        deadline = time.perf_counter() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.perf_counter()))
