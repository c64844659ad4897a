"""What every figure of the benchmark suite uses: HTTP, timing, processes.

- `Api`: one keep-alive HTTP/1.1 connection to a node's v1 API (stdlib
  `http.client`; one per thread, never shared).
- `summary(values)`: n, min, p50, p99, max of a list of numbers.
- `run_job(api, job, poll)`: submit one job, poll it to a terminal state, and
  return the client-observed and server-recorded durations.
- `NodeProcess`: one node process (`bacalao serve`, `bacalao devstack` or the
  bench launcher) whose output goes to a log file (a pipe nobody drains could
  block the node), with its API URL and swarm address read from that log.
- `rss_mb(pid)`, `cpu_seconds(pid)`: from /proc.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bacalao.ports import free_port_block

VENV_BIN = Path(sys.executable).parent
BACALAO = str(VENV_BIN / "bacalao")
JOBS = "/api/v1/orchestrator/jobs"
NODES = "/api/v1/orchestrator/nodes?limit=10000"
TERMINAL = ("Completed", "Failed", "Stopped")


class BenchError(Exception):
    """A benchmark could not be carried out (not a slow result: a broken one)."""


# ---------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, float]:
    """n, min, p50, p99, max of `values` (NaN where there are none)."""
    return {
        "n": len(values),
        "min": min(values) if values else math.nan,
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else math.nan,
    }


# ---------------------------------------------------------------------- HTTP


class Api:
    """A keep-alive connection to one node's HTTP API."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        match = re.match(r"http://([^:/]+):(\d+)", base_url)
        if match is None:
            raise BenchError(f"not an http URL: {base_url}")
        self.host, self.port = match.group(1), int(match.group(2))
        self.timeout = timeout
        self.requests = 0
        self._conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: object = None) -> Any:
        """One request; JSON in, JSON out; one reconnect on a dropped connection."""
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(
                    method,
                    path,
                    body=data,
                    headers={"Content-Type": "application/json"},
                )
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            self.requests += 1
            if resp.status >= 400:
                raise BenchError(f"{method} {path}: HTTP {resp.status}: {raw[:300]!r}")
            return json.loads(raw) if raw else None
        raise AssertionError("unreachable")

    def submit(self, job: dict[str, Any]) -> str:
        return str(self.call("PUT", JOBS, {"Job": job})["JobID"])

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"{JOBS}/{job_id}")["Job"])

    def node_ids(self) -> set[str]:
        """IDs of the nodes this node lists as connected."""
        nodes = self.call("GET", NODES)["Nodes"]
        return {
            n["Info"]["NodeID"] for n in nodes if n.get("Connection") == "CONNECTED"
        }

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        return self._conn


def noop_job() -> dict[str, Any]:
    return {"Type": "batch", "Tasks": [{"Name": "main", "Engine": {"Type": "noop"}}]}


@dataclass(frozen=True)
class JobTiming:
    """One job: client-observed and server-recorded submit → terminal, in ms."""

    job_id: str
    state: str
    client_ms: float
    server_ms: float


def run_job(
    api: Api, job: dict[str, Any], poll: float, timeout: float = 30
) -> JobTiming:
    """Submit `job`, poll every `poll` s until terminal; time both ways.

    A job still not terminal after `timeout` s comes back with the state
    "TimedOut (<state>)".
    """
    start = time.perf_counter()
    job_id = api.submit(job)
    deadline = start + timeout
    while True:
        got = api.job(job_id)
        state = got["State"]["StateType"]
        if state in TERMINAL:
            break
        if time.perf_counter() > deadline:
            state = f"TimedOut ({state})"
            break
        time.sleep(poll)
    client = (time.perf_counter() - start) * 1000
    server = (got["ModifyTime"] - got["CreateTime"]) / 1e6
    return JobTiming(job_id, state, client, server)


@dataclass
class Loop:
    """Jobs run one after another: the Completed ones' timings, the rest."""

    done: list[JobTiming] = field(default_factory=list)
    bad: list[JobTiming] = field(default_factory=list)
    skipped: int = 0

    @property
    def client(self) -> dict[str, float]:
        return summary([t.client_ms for t in self.done])

    @property
    def server(self) -> dict[str, float]:
        return summary([t.server_ms for t in self.done])

    def problems(self) -> str:
        """ "" when every job Completed in time, else what went wrong."""
        out = []
        if self.bad:
            states = sorted({t.state for t in self.bad})
            out.append(f"{len(self.bad)} jobs did not complete ({', '.join(states)})")
        if self.skipped:
            out.append(f"{self.skipped} not run: time budget spent")
        return "; ".join(out)


def job_loop(
    api: Api,
    count: int,
    poll: float,
    budget: float,
    job: Any = noop_job,
    timeout: float = 30,
) -> Loop:
    """Run `count` jobs one at a time, stopping once `budget` s have passed."""
    loop = Loop()
    stop = time.perf_counter() + budget
    for i in range(count):
        if time.perf_counter() > stop:
            loop.skipped = count - i
            break
        timing = run_job(api, job(), poll, timeout)
        (loop.done if timing.state == "Completed" else loop.bad).append(timing)
    return loop


# ----------------------------------------------------------------- processes


def free_port_base(count: int = 1) -> int:
    """A port p with p .. p+count-1 free on 127.0.0.1 right now."""
    try:
        return free_port_block(count)
    except OSError as exc:
        raise BenchError(str(exc)) from None


def rss_mb(pid: int) -> float:
    """Resident set size of `pid` in MB (NaN once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return math.nan
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) / 1024 if match else math.nan


def cpu_seconds(pid: int) -> float:
    """User + system CPU time `pid` has used, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_API_LINE = re.compile(r"^\s*API:\s+(http://\S+)", re.M)
_SWARM_LINE = re.compile(r"^\s*swarm:\s+(/\S+)", re.M)


@dataclass
class NodeProcess:
    """A node process started by the suite, its output in `log`."""

    name: str
    argv: list[str]
    log: Path
    stdin: bool = False
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ready_at: float = 0.0
    api_urls: list[str] = field(default_factory=list)
    swarm_addrs: list[str] = field(default_factory=list)

    def start(self) -> NodeProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("wb")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
            env={**os.environ, **self.env},
        )
        out.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def api_url(self) -> str:
        return self.api_urls[0]

    def poll_ready(self, marker: str) -> bool:
        """True once `marker` is in the log; fills `api_urls`, `swarm_addrs`."""
        if self.ready_at:
            return True
        assert self.proc is not None
        text = self.log.read_text(errors="replace")
        if marker not in text:
            if self.proc.poll() is not None:
                tail = "\n".join(text.splitlines()[-15:])
                raise BenchError(
                    f"{self.name} exited ({self.proc.returncode}):\n{tail}"
                )
            return False
        self.ready_at = time.perf_counter()
        self.api_urls = _API_LINE.findall(text)
        self.swarm_addrs = _SWARM_LINE.findall(text)
        return True

    def send(self, line: str) -> None:
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def stop(self, timeout: float = 20) -> None:
        """SIGINT, then SIGKILL if it has not exited within `timeout` s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc.stdin is not None:
            self.proc.stdin.close()


def wait_ready(
    procs: list[NodeProcess], marker: str = "API:", timeout: float = 120
) -> None:
    """Wait until every process has printed `marker` (BenchError on timeout)."""
    deadline = time.perf_counter() + timeout
    pending = list(procs)
    while pending:
        pending = [p for p in pending if not p.poll_ready(marker)]
        if not pending:
            return
        if time.perf_counter() > deadline:
            names = ", ".join(p.name for p in pending[:5])
            raise BenchError(f"not ready after {timeout} s: {names}")
        time.sleep(0.05)


def stop_all(procs: list[NodeProcess]) -> None:
    """SIGINT all at once, then wait for each (SIGKILL stragglers)."""
    for p in procs:
        if p.proc is not None and p.proc.poll() is None:
            p.proc.send_signal(signal.SIGINT)
    for p in procs:
        p.stop()


def serve_argv(
    repo: Path,
    *,
    peer: str | None = None,
    compute: bool = True,
    orchestrator: bool = True,
    engines: str | None = "noop",
    launcher: bool = False,
) -> list[str]:
    """argv of one node process on 127.0.0.1 with free ports, noop allowed."""
    head = (
        [sys.executable, str(Path(__file__).with_name("probe_node.py"))]
        if launcher
        else [BACALAO, "serve"]
    )
    argv = [
        *head,
        "--repo",
        str(repo),
        "--swarm-host",
        "127.0.0.1",
        "--swarm-port",
        "0",
        "--api-port",
        "0",
        "--allow-noop",
    ]
    if peer:
        argv += ["--peer", peer]
    if not compute:
        argv.append("--no-compute")
    if not orchestrator:
        argv.append("--no-orchestrator")
    if engines:
        argv += ["--engines", engines]
    return argv


# no --peer: an empty BACALAO_PEERS keeps bootstrap-peers.txt out of it
ALONE = {"BACALAO_PEERS": ""}
